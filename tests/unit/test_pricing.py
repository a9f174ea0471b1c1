from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pricing import (
    PolicyConfig,
    PolicyConfigError,
    PreviousOffer,
    PricingPolicy,
    Reason,
)

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Curve:
    intercept: float
    slope: float


def _revenue(curve: Curve, price: float, list_price: float) -> float:
    z = curve.intercept + curve.slope * math.log(price / list_price)
    return price / (1.0 + math.exp(-z))


def _in_cents(price: float) -> bool:
    return round(price, 2) == price


any_float = st.floats(allow_nan=True, allow_infinity=True)
curves = st.one_of(st.none(), st.builds(Curve, intercept=any_float, slope=any_float))
list_prices = st.floats(min_value=0.001, max_value=1e9, allow_nan=False, allow_infinity=False)
configs = st.builds(
    PolicyConfig,
    max_discount=st.floats(min_value=0.0, max_value=0.95),
    max_markup=st.sampled_from([0.0, 0.0, 0.2]),
    max_change=st.floats(min_value=0.0, max_value=1.0),
    change_window_s=st.sampled_from([0.0, 3600.0, 86400.0]),
)
previous_offers = st.one_of(
    st.none(),
    st.builds(
        PreviousOffer,
        price=st.floats(min_value=0.001, max_value=2e9),
        event_time_ms=st.integers(min_value=0, max_value=10 * HOUR_MS),
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    list_price=list_prices,
    curve=curves,
    config=configs,
    previous=previous_offers,
    now_ms=st.integers(min_value=0, max_value=10 * HOUR_MS),
)
def test_quote_any_curve_finite_inside_bounds(
    list_price: float,
    curve: Curve | None,
    config: PolicyConfig,
    previous: PreviousOffer | None,
    now_ms: int,
) -> None:
    quote = PricingPolicy(config).quote(list_price, curve, previous, now_ms)

    assert math.isfinite(quote.price)
    assert quote.price >= list_price * (1 - config.max_discount)
    assert quote.price <= list_price * (1 + config.max_markup)
    assert math.isfinite(quote.discount)
    assert quote.reasons
    if quote.purchase_probability is not None:
        assert 0.0 <= quote.purchase_probability <= 1.0
    if Reason.SUB_CENT_RANGE not in quote.reasons:
        assert _in_cents(quote.price)


@settings(max_examples=300, deadline=None)
@given(
    list_price=st.floats(min_value=1.0, max_value=1e6),
    curve=st.builds(
        Curve,
        intercept=st.floats(min_value=-20, max_value=20),
        slope=st.floats(min_value=-50, max_value=0),
    ),
    previous_ratio=st.floats(min_value=0.5, max_value=1.5),
    elapsed_ms=st.integers(min_value=0, max_value=24 * HOUR_MS - 1),
)
def test_quote_change_limit_respected_inside_window(
    list_price: float, curve: Curve, previous_ratio: float, elapsed_ms: int
) -> None:
    config = PolicyConfig(max_discount=0.3, max_change=0.1, change_window_s=86400)
    previous = PreviousOffer(price=list_price * previous_ratio, event_time_ms=0)
    floor, ceiling = list_price * 0.7, list_price

    quote = PricingPolicy(config).quote(list_price, curve, previous, elapsed_ms)

    limit_low, limit_high = previous.price * 0.9, previous.price * 1.1
    if max(floor, limit_low) <= min(ceiling, limit_high):
        # Rounding to whole cents may cross the limit by less than a cent.
        assert limit_low - 0.01 <= quote.price <= limit_high + 0.01
    else:
        # The list-price bounds win; the price sits on the bound nearest the old offer.
        at_floor = floor <= quote.price < floor + 0.01
        at_ceiling = ceiling - 0.01 < quote.price <= ceiling
        assert at_floor or at_ceiling
    assert floor <= quote.price <= ceiling


def test_quote_change_limit_outside_window_ignored() -> None:
    policy = PricingPolicy(PolicyConfig(change_window_s=3600))
    curve = Curve(intercept=2.0, slope=-20.0)
    fresh = policy.quote(100.0, curve, None, 0)

    later = policy.quote(100.0, curve, PreviousOffer(price=70.0, event_time_ms=0), HOUR_MS)

    assert later.price == fresh.price
    assert Reason.CHANGE_LIMIT not in later.reasons


def test_quote_change_limit_reason_when_binding() -> None:
    policy = PricingPolicy()
    curve = Curve(intercept=-1.0, slope=-20.0)
    unconstrained = policy.quote(100.0, curve, None, 0)

    limited = policy.quote(100.0, curve, PreviousOffer(price=99.0, event_time_ms=0), HOUR_MS)

    assert unconstrained.price < 89.1
    assert limited.price == pytest.approx(89.1)
    assert Reason.CHANGE_LIMIT in limited.reasons
    assert limited.personalized


def test_quote_interior_optimum_matches_grid_search() -> None:
    curve = Curve(intercept=1.0, slope=-8.0)
    list_price = 50.0

    quote = PricingPolicy().quote(list_price, curve, None, 0)

    grid = [cents / 100 for cents in range(3500, 5001)]
    best = max(grid, key=lambda price: (_revenue(curve, price, list_price), price))
    assert quote.price == best
    assert quote.reasons == (Reason.REVENUE_OPTIMUM,)
    assert quote.personalized
    assert quote.discount == pytest.approx(1 - best / list_price)
    assert quote.purchase_probability == pytest.approx(_revenue(curve, best, list_price) / best)


def test_quote_steep_curve_clamped_to_floor() -> None:
    quote = PricingPolicy().quote(100.0, Curve(intercept=-12.0, slope=-40.0), None, 0)

    assert quote.price == 70.0
    assert quote.reasons == (Reason.MAX_DISCOUNT_FLOOR,)


def test_quote_inelastic_curve_gives_list_price() -> None:
    quote = PricingPolicy().quote(100.0, Curve(intercept=0.0, slope=-0.5), None, 0)

    assert quote.price == 100.0
    assert quote.reasons == (Reason.LIST_PRICE,)
    assert not quote.personalized


@pytest.mark.parametrize(
    ("curve", "reason"),
    [
        (None, Reason.NO_MODEL_SIGNAL),
        (Curve(intercept=0.3, slope=0.0), Reason.NO_MODEL_SIGNAL),
        (Curve(intercept=math.nan, slope=-3.0), Reason.INVALID_MODEL_OUTPUT),
        (Curve(intercept=0.0, slope=-math.inf), Reason.INVALID_MODEL_OUTPUT),
        (Curve(intercept=0.0, slope=2.0), Reason.INVALID_MODEL_OUTPUT),
    ],
)
def test_quote_unusable_curve_falls_back_to_list(curve: Curve | None, reason: str) -> None:
    quote = PricingPolicy().quote(19.999, curve, None, 0)

    assert quote.price == 19.99
    assert quote.reasons == (reason, Reason.LIST_PRICE)
    assert quote.purchase_probability is None
    assert not quote.personalized


def test_quote_sub_cent_list_price_not_rounded() -> None:
    quote = PricingPolicy().quote(0.004, Curve(intercept=0.0, slope=-3.0), None, 0)

    assert quote.price == 0.004
    assert Reason.SUB_CENT_RANGE in quote.reasons


def test_quote_markup_allowed_above_list() -> None:
    policy = PricingPolicy(PolicyConfig(max_markup=0.2))

    quote = policy.quote(100.0, Curve(intercept=3.0, slope=-0.5), None, 0)

    assert quote.price == 120.0
    assert quote.reasons == (Reason.MAX_MARKUP_CEILING,)
    assert quote.personalized


def test_quote_invalid_list_price_raises() -> None:
    with pytest.raises(ValueError, match="'list_price' must be a finite number > 0"):
        PricingPolicy().quote(math.nan, None, None, 0)


def test_policy_version_changes_with_config() -> None:
    default = PricingPolicy()

    assert default.version == PricingPolicy(PolicyConfig()).version
    assert default.version.startswith("price-v1-")
    assert default.version != PricingPolicy(PolicyConfig(max_discount=0.2)).version


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_discount", 1.0), ("max_discount", -0.1), ("max_change", math.nan)],
)
def test_policy_config_out_of_range_rejected(field: str, value: float) -> None:
    with pytest.raises(PolicyConfigError) as caught:
        PolicyConfig(**{field: value})

    assert caught.value.field == field


@pytest.mark.parametrize("list_price", [2552.93, 1029.37, 0.07, 19.99, 1073.36])
def test_quote_cent_list_price_kept_exactly(list_price: float) -> None:
    quote = PricingPolicy().quote(list_price, None, None, 0)

    assert quote.price == list_price
    assert not quote.personalized
