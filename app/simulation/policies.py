"""Pricing policies the simulator compares, all bounded by the same PricingPolicy guardrails.

Every policy turns its own price target into a quote through ``PricingPolicy.quote``, so
the discount limit, the per-user change limit, the cent rounding and the reason codes are
those of the production policy for all of them:

- ``ListPricePolicy``: no curve, so the list price (rounded down to cents).
- ``UniformDiscountPolicy``: the same discount for everyone.
- ``ModelPolicy``: pricestream as deployed, the model's propensity curve at the event.
- ``OraclePolicy``: the buyer's true curve, hidden from any real system; an upper
  bound on expected revenue within the guardrails.
- ``ThompsonPolicy``: Thompson sampling over discount levels that learns from the
  purchases it sees during the run.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from app.pricing import PreviousOffer, PriceQuote, PricingPolicy
from app.simulation.population import BuyerPair, ReplayEvent
from app.simulation.signals import ModelSignal
from models.serving import PropensityCurve

__all__ = [
    "ListPricePolicy",
    "ModelPolicy",
    "Offer",
    "OraclePolicy",
    "Policy",
    "ThompsonPolicy",
    "UniformDiscountPolicy",
    "target_curve",
]


@dataclass(frozen=True)
class Offer:
    """One priced replay event: what a policy may look at, and the hidden buyer behind it.

    Only ``OraclePolicy`` reads ``pair``'s hidden parameters; the others use the event,
    the list price and the model's signal.
    """

    event: ReplayEvent
    pair_index: int
    pair: BuyerPair
    list_price: float
    event_time_ms: int
    signal: ModelSignal


class Policy(Protocol):
    """A pricing policy as the runner drives it."""

    name: str

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Price the offer; ``previous`` is this user's last offer for the item, if any."""
        ...

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Learn from the buyer's decision on a deciding offer."""
        ...


def target_curve(discount: float) -> PropensityCurve:
    """Return a curve whose revenue optimum is ``list * (1 - discount)``.

    For ``sigmoid(a + b * x)`` with ``b = -2`` the optimum is ``x = a / 2``, so
    ``a = 2 * log(1 - discount)``. PricingPolicy then applies its guardrails to that
    target as to any model's curve.
    """
    return PropensityCurve(intercept=2.0 * math.log(1.0 - discount), slope=-2.0)


class ListPricePolicy:
    """The list price for everyone, rounded down to whole cents."""

    def __init__(self, pricing: PricingPolicy) -> None:
        self.name = "list price"
        self._pricing = pricing

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Quote without a curve, which PricingPolicy prices at list."""
        return self._pricing.quote(offer.list_price, None, previous, offer.event_time_ms)

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Learn nothing."""


class UniformDiscountPolicy:
    """The same discount for every user and item; the quote is marked not personalized."""

    def __init__(self, pricing: PricingPolicy, discount: float) -> None:
        self.name = f"uniform {discount:.0%}"
        self.discount = discount
        self._pricing = pricing
        self._curve = target_curve(discount)

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Quote the target discount inside the guardrails."""
        quote = self._pricing.quote(offer.list_price, self._curve, previous, offer.event_time_ms)
        return replace(quote, purchase_probability=None, personalized=False)

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Learn nothing."""


class ModelPolicy:
    """pricestream's policy: the model's propensity curve at the event, as the engine does."""

    def __init__(self, pricing: PricingPolicy) -> None:
        self.name = "pricestream"
        self._pricing = pricing

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Quote from the model's curve."""
        return self._pricing.quote(
            offer.list_price, offer.signal.curve, previous, offer.event_time_ms
        )

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Learn nothing; the model is trained offline."""


class OraclePolicy:
    """The revenue-optimal price for the buyer's true curve, inside the same guardrails.

    The interest factor scales revenue at every price alike, so the interested buyer's
    curve ``sigmoid(wtp_level / wtp_spread - log(price / list) / wtp_spread)`` has the
    same optimum as the full purchase probability, and PricingPolicy finds it exactly.

    NOTE: the bound holds while a pair's list price stays the same across its events. When
    it changes, the change limit around the oracle's earlier offers can keep the deciding
    offer away from the optimum, and another policy can then earn more on that pair.
    """

    def __init__(self, pricing: PricingPolicy) -> None:
        self.name = "oracle"
        self._pricing = pricing

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Quote from the hidden curve of the offer's buyer."""
        pair = offer.pair
        # The hidden curve is relative to the list price at the pair's deciding event. An
        # earlier event may show another list price, so the curve is shifted to this one.
        shift = math.log(offer.list_price / pair.list_price)
        curve = PropensityCurve(
            intercept=pair.curve_intercept + pair.curve_slope * shift,
            slope=pair.curve_slope,
        )
        quote = self._pricing.quote(offer.list_price, curve, previous, offer.event_time_ms)
        return replace(quote, purchase_probability=pair.purchase_probability(quote.price))

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Learn nothing, because it reads every buyer's hidden parameters."""


class ThompsonPolicy:
    """Thompson sampling over discount levels, per bucket of the user's expected price level.

    Each (bucket, level) arm keeps a Beta posterior of its purchase rate, starting from
    ``prior_rate`` with the weight of ``prior_pairs`` pairs. At a pair's first offer the
    policy samples every level's rate and picks the level with the highest sampled
    revenue ``(1 - level) * rate``. The pair keeps that level, so its later offers stay
    within the change limit. The bucket is ``log(expected_price / list_price)`` from the
    model, cut at ``bucket_edges``. It separates users who usually pay more than this item
    costs from those who usually pay less.
    """

    def __init__(
        self,
        pricing: PricingPolicy,
        seed: int,
        levels: Sequence[float] | None = None,
        bucket_edges: Sequence[float] = (-0.5, 0.5),
        prior_rate: float = 0.02,
        prior_pairs: float = 50.0,
    ) -> None:
        self.name = "pricestream + Thompson"
        self._pricing = pricing
        max_discount = pricing.config.max_discount
        if levels is None:
            levels = [step / 100.0 for step in range(0, 31, 5)]
        self.levels = tuple(level for level in levels if level <= max_discount + 1e-12)
        if not self.levels:
            msg = f"'levels' must hold a discount <= max_discount {max_discount} (got {levels})"
            raise ValueError(msg)
        self._curves = [target_curve(level) for level in self.levels]
        self._edges = tuple(bucket_edges)
        self._rng = np.random.default_rng(seed)
        self._alpha: dict[tuple[int, int], float] = defaultdict(lambda: prior_rate * prior_pairs)
        self._beta: dict[tuple[int, int], float] = defaultdict(
            lambda: (1.0 - prior_rate) * prior_pairs
        )
        self._chosen: dict[int, tuple[int, int]] = {}

    def quote(self, offer: Offer, previous: PreviousOffer | None) -> PriceQuote:
        """Quote the level chosen for the offer's pair, sampling it at the first offer."""
        arm = self._chosen.get(offer.pair_index)
        if arm is None:
            arm = self._choose(offer)
            self._chosen[offer.pair_index] = arm
        quote = self._pricing.quote(
            offer.list_price, self._curves[arm[1]], previous, offer.event_time_ms
        )
        return replace(quote, purchase_probability=None)

    def observe(self, offer: Offer, price: float, purchased: bool) -> None:
        """Update the Beta posterior of the pair's arm with the buyer's decision."""
        arm = self._chosen.get(offer.pair_index)
        if arm is None:
            return
        if purchased:
            self._alpha[arm] += 1.0
        else:
            self._beta[arm] += 1.0

    def _choose(self, offer: Offer) -> tuple[int, int]:
        bucket = self._bucket(offer)
        best_level = 0
        best_revenue = -1.0
        for level_index, level in enumerate(self.levels):
            arm = (bucket, level_index)
            rate = float(self._rng.beta(self._alpha[arm], self._beta[arm]))
            revenue = (1.0 - level) * rate
            if revenue > best_revenue:
                best_level, best_revenue = level_index, revenue
        return bucket, best_level

    def _bucket(self, offer: Offer) -> int:
        expected = offer.signal.expected_price
        if not (math.isfinite(expected) and expected > 0.0):
            return len(self._edges) // 2
        ratio = math.log(expected / offer.list_price)
        return sum(1 for edge in self._edges if ratio >= edge)
