"""Per-policy figures of a simulation: revenue, conversion, discounts, surplus, fairness."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.pricing import PolicyConfig
from app.simulation.population import Population
from app.simulation.runner import OfferRecord, PolicyRun, expected_revenue

__all__ = ["PolicyMetrics", "guardrail_violations", "policy_metrics"]

# Float slack for price comparisons; prices are whole cents, so 1e-9 hides no real breach.
_EPSILON = 1e-9


@dataclass(frozen=True)
class PolicyMetrics:
    """Figures of one policy run; revenue and surplus are in the log's currency.

    ``revenue`` and ``purchases`` are realised with the seeded draws. ``expected_revenue``
    sums ``price * P(buy | price)`` over the deciding offers, the mean over all draws for
    the same hidden parameters, so it is free of draw noise. ``consumer_surplus`` sums
    ``wtp - price`` over realised purchases. ``price_spread`` is the mean, over items
    decided on by at least two users, of (highest - lowest price) / list price, and
    ``items_with_several_prices`` the share of those items offered at more than one price.
    ``oracle_discount_correlation`` measures whether the policy discounts the buyers that
    the oracle discounts.
    """

    name: str
    pairs: int
    purchases: int
    revenue: float
    expected_revenue: float
    conversion: float
    expected_conversion: float
    mean_discount: float  # over deciding offers, fraction of list price
    mean_discount_purchased: float  # over purchases; 0.0 without purchases
    oracle_revenue_share: float
    oracle_expected_revenue_share: float
    consumer_surplus: float
    personalized_share: float  # share of deciding offers marked personalized
    oracle_discount_correlation: float  # Pearson r of per-pair discounts; 0.0 when undefined
    price_spread: float
    items_with_several_prices: float
    guardrail_violations: int


def policy_metrics(
    run: PolicyRun, population: Population, oracle: PolicyRun, config: PolicyConfig
) -> PolicyMetrics:
    """Compute the figures of ``run``, with shares relative to the ``oracle`` run."""
    decisions = run.decisions
    pairs = population.pairs
    bought = [offer for offer in decisions if offer.purchased]
    revenue = sum(offer.price for offer in bought)
    expected = [pairs[offer.pair].purchase_probability(offer.price) for offer in decisions]
    run_expected = expected_revenue(run, population)
    oracle_revenue = sum(offer.price for offer in oracle.decisions if offer.purchased)
    oracle_expected = expected_revenue(oracle, population)
    count = len(decisions)
    spread, several = _price_spread(decisions, population)
    return PolicyMetrics(
        name=run.name,
        pairs=count,
        purchases=len(bought),
        revenue=revenue,
        expected_revenue=run_expected,
        conversion=_ratio(len(bought), count),
        expected_conversion=_ratio(sum(expected), count),
        mean_discount=_ratio(sum(_discount(offer) for offer in decisions), count),
        mean_discount_purchased=_ratio(sum(_discount(offer) for offer in bought), len(bought)),
        oracle_revenue_share=_ratio(revenue, oracle_revenue),
        oracle_expected_revenue_share=_ratio(run_expected, oracle_expected),
        consumer_surplus=sum(pairs[offer.pair].wtp - offer.price for offer in bought),
        personalized_share=_ratio(sum(offer.personalized for offer in decisions), count),
        oracle_discount_correlation=_discount_correlation(decisions, oracle.decisions),
        price_spread=spread,
        items_with_several_prices=several,
        guardrail_violations=len(guardrail_violations(run, config)),
    )


def guardrail_violations(run: PolicyRun, config: PolicyConfig) -> list[str]:
    """Return a description of every offer outside the guardrails of ``config``.

    An offer breaks the bounds when it lies outside [list * (1 - max_discount),
    list * (1 + max_markup)]. It breaks the change limit when the same user's previous
    offer for the item is inside ``change_window_s`` and within today's bounds, but the new
    price moved by more than ``max_change`` of it plus one cent of rounding.
    """
    problems = []
    for offer in run.offers:
        floor = offer.list_price * (1.0 - config.max_discount)
        ceiling = offer.list_price * (1.0 + config.max_markup)
        if not (floor - _EPSILON <= offer.price <= ceiling + _EPSILON):
            problems.append(
                f"{run.name}: price {offer.price} outside [{floor:.4f}, {ceiling:.4f}] "
                f"at event {offer.event_index}"
            )
            continue
        previous = offer.previous
        if previous is None:
            continue
        age_ms = abs(offer.event_time_ms - previous.event_time_ms)
        if age_ms >= config.change_window_s * 1000.0:
            continue
        if not (floor - _EPSILON <= previous.price <= ceiling + _EPSILON):
            continue
        allowed = config.max_change * previous.price + 0.01 + _EPSILON
        if abs(offer.price - previous.price) > allowed:
            problems.append(
                f"{run.name}: price {offer.price} moved more than {config.max_change:.0%} "
                f"from {previous.price} at event {offer.event_index}"
            )
    return problems


def _discount(offer: OfferRecord) -> float:
    return 1.0 - offer.price / offer.list_price


def _price_spread(decisions: Sequence[OfferRecord], population: Population) -> tuple[float, float]:
    prices: dict[str, list[OfferRecord]] = defaultdict(list)
    for offer in decisions:
        prices[population.pairs[offer.pair].item_id].append(offer)
    shared = [offers for offers in prices.values() if len(offers) >= 2]
    if not shared:
        return 0.0, 0.0
    spreads = []
    several = 0
    for offers in shared:
        values = [offer.price for offer in offers]
        spreads.append((max(values) - min(values)) / max(offer.list_price for offer in offers))
        several += len(set(values)) > 1
    return sum(spreads) / len(spreads), several / len(shared)


def _discount_correlation(
    decisions: Sequence[OfferRecord], oracle_decisions: Sequence[OfferRecord]
) -> float:
    oracle_discounts = {offer.pair: _discount(offer) for offer in oracle_decisions}
    shared = [offer for offer in decisions if offer.pair in oracle_discounts]
    if len(shared) < 2:
        return 0.0
    ours = np.array([_discount(offer) for offer in shared])
    theirs = np.array([oracle_discounts[offer.pair] for offer in shared])
    if ours.std() == 0.0 or theirs.std() == 0.0:
        return 0.0
    return float(np.corrcoef(ours, theirs)[0, 1])


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0
