"""Guardrail properties of PricingPolicy over sequences of quotes and any model output."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from app.pricing import PolicyConfig, PreviousOffer, PricingPolicy, Reason

HOUR_MS = 3_600_000
KNOWN_REASONS = {
    value for name, value in vars(Reason).items() if name.isupper() and isinstance(value, str)
}


@dataclass(frozen=True)
class Curve:
    intercept: float
    slope: float


# Any float the model could emit, with the extremes and non-finite values weighted in.
model_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324, math.nan, math.inf, -math.inf]),
)
model_curves = st.one_of(st.none(), st.builds(Curve, intercept=model_floats, slope=model_floats))
list_prices = st.floats(min_value=0.05, max_value=1e7, allow_nan=False, allow_infinity=False)
configs = st.builds(
    PolicyConfig,
    max_discount=st.floats(min_value=0.0, max_value=0.9),
    max_change=st.floats(min_value=0.0, max_value=0.5),
    change_window_s=st.sampled_from([3600.0, 86400.0]),
)


@settings(max_examples=300, deadline=None)
@given(
    config=configs,
    list_price=list_prices,
    steps=st.lists(
        st.tuples(
            model_curves,
            st.floats(min_value=0.5, max_value=2.0),  # list price multiplier of this event
            st.integers(min_value=0, max_value=2 * HOUR_MS),  # event-time gap to the previous quote
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_quote_sequence_any_output_guarded(
    config: PolicyConfig,
    list_price: float,
    steps: list[tuple[Curve | None, float, int]],
) -> None:
    # One user, one item, as the engine quotes it event after event: each quote becomes
    # the previous offer of the next.
    policy = PricingPolicy(config)
    previous: PreviousOffer | None = None
    now_ms = 0
    for curve, multiplier, gap_ms in steps:
        now_ms += gap_ms
        shown = list_price * multiplier
        floor = shown * (1.0 - config.max_discount)

        quote = policy.quote(shown, curve, previous, now_ms)

        assert math.isfinite(quote.price)
        assert floor <= quote.price <= shown
        assert quote.reasons
        assert set(quote.reasons) <= KNOWN_REASONS
        inside_window = (
            previous is not None
            and now_ms - previous.event_time_ms < config.change_window_s * 1000.0
        )
        if inside_window and floor <= previous.price <= shown:
            # The earlier offer fits today's bounds, so the limit holds up to a cent.
            assert abs(quote.price - previous.price) <= config.max_change * previous.price + 0.01
        previous = PreviousOffer(quote.price, now_ms)


@settings(max_examples=300, deadline=None)
@given(list_price=list_prices, curve=model_curves, config=configs)
def test_quote_unusable_output_list_price(
    list_price: float, curve: Curve | None, config: PolicyConfig
) -> None:
    usable = (
        curve is not None
        and math.isfinite(curve.intercept)
        and math.isfinite(curve.slope)
        and curve.slope < 0.0
    )

    quote = PricingPolicy(config).quote(list_price, curve, None, 0)

    if not usable:
        assert quote.reasons[0] in {Reason.NO_MODEL_SIGNAL, Reason.INVALID_MODEL_OUTPUT}
        assert Reason.LIST_PRICE in quote.reasons
        assert quote.purchase_probability is None
        assert not quote.personalized
        if Reason.SUB_CENT_RANGE in quote.reasons:
            # No whole cent fits inside the bounds, so the list price is kept unrounded.
            assert quote.price == list_price
        else:
            # The list price rounded down to whole cents.
            assert round(quote.price, 2) == quote.price
            assert list_price - 0.01 < quote.price <= list_price
    else:
        assert quote.purchase_probability is not None
        assert 0.0 <= quote.purchase_probability <= 1.0


@settings(max_examples=300, deadline=None)
@given(list_price=list_prices, curve=model_curves, config=configs)
def test_quote_personalized_iff_not_list(
    list_price: float, curve: Curve | None, config: PolicyConfig
) -> None:
    policy = PricingPolicy(config)
    baseline = policy.quote(list_price, None, None, 0)

    quote = policy.quote(list_price, curve, None, 0)

    assert quote.personalized == (quote.price != baseline.price)
    assert quote.discount == round(1.0 - quote.price / list_price, 6)


@settings(max_examples=300, deadline=None)
@given(
    list_price=list_prices,
    curve=st.builds(
        Curve,
        intercept=st.floats(min_value=-30, max_value=30),
        slope=st.floats(min_value=-100, max_value=-1e-6),
    ),
    previous_ratio=st.floats(min_value=0.7, max_value=1.0),
)
def test_quote_change_limit_reason_iff_moved(
    list_price: float, curve: Curve, previous_ratio: float
) -> None:
    policy = PricingPolicy()
    free = policy.quote(list_price, curve, None, HOUR_MS)
    previous = PreviousOffer(price=round(list_price * previous_ratio, 2), event_time_ms=0)

    limited = policy.quote(list_price, curve, previous, HOUR_MS)

    assert (Reason.CHANGE_LIMIT in limited.reasons) == (limited.price != free.price)
    if abs(free.price - previous.price) > 0.1 * previous.price + 0.01:
        # The unconstrained price is out of reach of the default 10% change limit.
        assert Reason.CHANGE_LIMIT in limited.reasons
