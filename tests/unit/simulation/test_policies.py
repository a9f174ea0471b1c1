"""Policies: the uniform target, the oracle's optimum and the quote flags."""

from __future__ import annotations

import math

import pytest

from app.pricing import PricingPolicy, Reason
from app.simulation.policies import (
    ListPricePolicy,
    Offer,
    OraclePolicy,
    UniformDiscountPolicy,
    target_curve,
)
from tests.unit.simulation.hand_made import hand_made_population


def first_offer(pair_index: int = 0) -> Offer:
    population, signals = hand_made_population(pairs=20, seed=11)
    event = next(e for e in population.events if e.pair == pair_index and e.decides)
    assert event.price is not None
    return Offer(
        event=event,
        pair_index=pair_index,
        pair=population.pairs[pair_index],
        list_price=event.price,
        event_time_ms=round(event.time_s * 1000),
        signal=signals[event.index],
    )


@pytest.mark.parametrize("discount", [0.0, 0.01, 0.05, 0.13, 0.3])
def test_target_curve_optimum_at_discount(discount: float) -> None:
    quote = PricingPolicy().quote(250.0, target_curve(discount), None, 0)

    assert quote.price == pytest.approx(250.0 * (1.0 - discount), abs=0.01)


def test_uniform_discount_not_personalized() -> None:
    quote = UniformDiscountPolicy(PricingPolicy(), 0.1).quote(first_offer(), None)

    assert quote.discount == pytest.approx(0.1, abs=0.001)
    assert quote.personalized is False
    assert quote.purchase_probability is None


def test_list_price_policy_offers_list() -> None:
    offer = first_offer()

    quote = ListPricePolicy(PricingPolicy()).quote(offer, None)

    assert quote.price == math.floor(offer.list_price * 100) / 100
    assert quote.reasons == (Reason.NO_MODEL_SIGNAL, Reason.LIST_PRICE)


@pytest.mark.parametrize("pair_index", range(10))
def test_oracle_price_maximizes_true_expected_revenue(pair_index: int) -> None:
    offer = first_offer(pair_index)
    pair = offer.pair

    quote = OraclePolicy(PricingPolicy()).quote(offer, None)

    floor_cents = math.ceil(offer.list_price * 0.7 * 100)
    list_cents = math.floor(offer.list_price * 100)
    best = max(
        range(floor_cents, list_cents + 1),
        key=lambda cents: cents / 100 * pair.purchase_probability(cents / 100),
    )
    best_revenue = best / 100 * pair.purchase_probability(best / 100)
    assert quote.price * pair.purchase_probability(quote.price) == pytest.approx(
        best_revenue, rel=1e-9
    )
    assert quote.purchase_probability == pytest.approx(pair.purchase_probability(quote.price))
