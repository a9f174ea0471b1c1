"""Seeded runs of every policy over the same replayed events and buyers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.pricing import PolicyConfig, PreviousOffer, PricingPolicy
from app.simulation.policies import (
    ListPricePolicy,
    ModelPolicy,
    Offer,
    OraclePolicy,
    Policy,
    ThompsonPolicy,
    UniformDiscountPolicy,
)
from app.simulation.population import Population
from app.simulation.signals import ModelSignal

__all__ = [
    "OfferRecord",
    "PolicyRun",
    "SimulationRuns",
    "expected_revenue",
    "run_policy",
    "run_simulation",
    "uniform_levels",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfferRecord:
    """One price a policy offered, and the buyer's decision when the offer decides."""

    pair: int
    event_index: int
    event_time_ms: int
    list_price: float
    price: float
    personalized: bool
    reasons: tuple[str, ...]
    decides: bool
    purchased: bool  # always False for offers that do not decide
    previous: PreviousOffer | None  # the offer the change limit was applied to


@dataclass(frozen=True)
class PolicyRun:
    """Every offer of one policy over the replay, in event-time order."""

    name: str
    offers: tuple[OfferRecord, ...]

    @property
    def decisions(self) -> tuple[OfferRecord, ...]:
        """The offers on which buyers decided, one per pair."""
        return tuple(offer for offer in self.offers if offer.decides)


@dataclass(frozen=True)
class SimulationRuns:
    """The runs of one simulation and the search behind the best uniform discount.

    ``runs`` contains list price, the best uniform discount, pricestream, pricestream with
    Thompson sampling and the oracle, in that order. ``uniform_search`` contains (discount,
    expected revenue, realised revenue) for each discount tried.
    """

    runs: tuple[PolicyRun, ...]
    uniform_search: tuple[tuple[float, float, float], ...]
    best_uniform_discount: float
    policy_version: str


def uniform_levels(max_discount: float, step: float = 0.01) -> tuple[float, ...]:
    """Return the discounts 0, step, 2 * step, ... up to ``max_discount``."""
    count = int(max_discount / step + 1e-9)
    return tuple(round(i * step, 10) for i in range(count + 1))


def expected_revenue(run: PolicyRun, population: Population) -> float:
    """Return the sum of ``price * P(buy | price)`` over the deciding offers of ``run``."""
    return sum(
        offer.price * population.pairs[offer.pair].purchase_probability(offer.price)
        for offer in run.decisions
    )


def run_policy(population: Population, signals: Sequence[ModelSignal], policy: Policy) -> PolicyRun:
    """Replay ``population`` under ``policy``: quote every priced event, let buyers decide.

    The runner keeps each user's last offer per item and passes it to the policy, as the
    engine does with the offers in its per-user state.
    """
    last_offers: dict[tuple[str, str], PreviousOffer] = {}
    records = []
    for event in population.events:
        if event.pair is None or event.price is None:
            continue
        pair = population.pairs[event.pair]
        event_ms = round(event.time_s * 1000.0)
        offer = Offer(
            event=event,
            pair_index=event.pair,
            pair=pair,
            list_price=event.price,
            event_time_ms=event_ms,
            signal=signals[event.index],
        )
        key = (event.user_id, event.item_id)
        previous = last_offers.get(key)
        quote = policy.quote(offer, previous)
        last_offers[key] = PreviousOffer(quote.price, event_ms)
        purchased = event.decides and pair.buys(quote.price)
        if event.decides:
            policy.observe(offer, quote.price, purchased)
        records.append(
            OfferRecord(
                pair=event.pair,
                event_index=event.index,
                event_time_ms=event_ms,
                list_price=event.price,
                price=quote.price,
                personalized=quote.personalized,
                reasons=quote.reasons,
                decides=event.decides,
                purchased=purchased,
                previous=previous,
            )
        )
    return PolicyRun(name=policy.name, offers=tuple(records))


def run_simulation(
    population: Population,
    signals: Sequence[ModelSignal],
    config: PolicyConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationRuns:
    """Run list price, every uniform discount, pricestream, Thompson and the oracle.

    The best uniform discount is the one with the highest expected revenue on this very
    population, chosen with knowledge of the hidden parameters: the strongest baseline a
    single discount level can be.
    """
    pricing = PricingPolicy(config)
    report = progress or (lambda _: None)

    search = []
    best_run: PolicyRun | None = None
    best_expected = -1.0
    best_discount = 0.0
    for discount in uniform_levels(pricing.config.max_discount):
        run = run_policy(population, signals, UniformDiscountPolicy(pricing, discount))
        expected = expected_revenue(run, population)
        realised = sum(offer.price for offer in run.decisions if offer.purchased)
        search.append((discount, expected, realised))
        # Strictly greater: on a tie the smaller discount stays.
        if expected > best_expected:
            best_run, best_expected, best_discount = run, expected, discount
    assert best_run is not None  # uniform_levels always contains 0
    report(f"uniform discount search: best {best_discount:.0%} of {len(search)} levels")

    runs = [run_policy(population, signals, ListPricePolicy(pricing)), best_run]
    for policy in (
        ModelPolicy(pricing),
        ThompsonPolicy(pricing, seed=population.seed),
        OraclePolicy(pricing),
    ):
        runs.append(run_policy(population, signals, policy))
        report(f"ran {policy.name}")
    log.debug("simulation done: %d policies over %d pairs", len(runs), len(population.pairs))
    return SimulationRuns(
        runs=tuple(runs),
        uniform_search=tuple(search),
        best_uniform_discount=best_discount,
        policy_version=pricing.version,
    )
