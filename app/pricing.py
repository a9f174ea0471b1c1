"""Pricing policy v1: the revenue-maximizing price inside fixed guardrails.

The model gives a purchase propensity curve ``p(price) = sigmoid(a + b * log(price / list))``
with ``b <= 0``. Log revenue, ``log(price * p(price))``, is concave in ``log(price)``
because its derivative ``1 + b * (1 - p)`` falls as the price rises. So the optimum inside
an interval is the unconstrained optimum clamped to that interval. When ``b < -1`` that
optimum is ``log(price / list) = (log(-b - 1) - a) / b``. When ``-1 <= b <= 0`` revenue
rises with the price, and the optimum is the upper bound.

Guardrails, applied in this order:

1. Bounds relative to the list price: ``[list * (1 - max_discount), list * (1 + max_markup)]``;
   ``max_markup`` is 0 by default, so no price is ever above list.
2. Change limit: when this user was offered this item less than ``change_window_s`` of
   event time ago, the new price stays within ``max_change`` (a fraction) of that offer,
   to the nearest whole cent. The bounds of step 1 win when both cannot hold.
3. Rounding to whole cents, choosing only cent values inside the bounds. When no cent
   value lies inside them (list prices under a few cents), the upper bound is used as is.

Any model output, including NaN, infinities or a positive slope, yields a finite price
inside the bounds: an unusable curve falls back to the list price.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from models.serving import PropensityCurve

__all__ = [
    "POLICY_NAME",
    "PolicyConfig",
    "PolicyConfigError",
    "PreviousOffer",
    "PriceQuote",
    "PricingPolicy",
    "Reason",
]

POLICY_NAME = "price-v1"


class Reason:
    """Reason codes a PriceQuote carries, most important first."""

    REVENUE_OPTIMUM = "revenue_optimum"
    """The model's revenue optimum lies inside the bounds and was offered."""
    LIST_PRICE = "list_price"
    """The list price was offered."""
    MAX_DISCOUNT_FLOOR = "max_discount_floor"
    """The optimum lies below the maximum discount; the floor was offered."""
    MAX_MARKUP_CEILING = "max_markup_ceiling"
    """The optimum lies above the maximum markup; the ceiling was offered."""
    CHANGE_LIMIT = "change_limit"
    """The price was moved to stay within the change limit of an earlier offer."""
    NO_MODEL_SIGNAL = "no_model_signal"
    """The model gave no propensity curve, or a flat one."""
    INVALID_MODEL_OUTPUT = "invalid_model_output"
    """The model's curve had a non-finite or positive coefficient."""
    SUB_CENT_RANGE = "sub_cent_range"
    """No whole-cent price fits inside the bounds, so the price was not rounded."""


class PolicyConfigError(ValueError):
    """A PolicyConfig field is outside its valid range."""

    def __init__(self, field: str, value: float, expected: str) -> None:
        super().__init__(f"'{field}' must be {expected} (got {value!r})")
        self.field = field
        self.value = value
        self.expected = expected


@dataclass(frozen=True)
class PolicyConfig:
    """Guardrails of the pricing policy; fractions are of the list price or earlier offer."""

    max_discount: float = 0.30
    max_markup: float = 0.0
    max_change: float = 0.10
    change_window_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_discount) and 0.0 <= self.max_discount < 1.0):
            raise PolicyConfigError(
                field="max_discount", value=self.max_discount, expected="in [0, 1)"
            )
        if not (math.isfinite(self.max_markup) and 0.0 <= self.max_markup <= 10.0):
            raise PolicyConfigError(
                field="max_markup", value=self.max_markup, expected="in [0, 10]"
            )
        if not (math.isfinite(self.max_change) and 0.0 <= self.max_change <= 10.0):
            raise PolicyConfigError(
                field="max_change", value=self.max_change, expected="in [0, 10]"
            )
        if not (math.isfinite(self.change_window_s) and self.change_window_s >= 0.0):
            raise PolicyConfigError(
                field="change_window_s", value=self.change_window_s, expected="a number >= 0"
            )


@dataclass(frozen=True)
class PreviousOffer:
    """The price last offered to one user for one item, and the event time of that offer."""

    price: float
    event_time_ms: int


@dataclass(frozen=True)
class PriceQuote:
    """The policy's price for one item and one user, with the reasons behind it.

    ``personalized`` is true when ``price`` differs from the price the user would get
    without the model (the list price rounded down to cents), either directly or through
    the change limit of an earlier personalized offer. ``purchase_probability`` is None
    when the model gave no usable curve.
    """

    list_price: float
    price: float
    discount: float
    purchase_probability: float | None
    personalized: bool
    reasons: tuple[str, ...]


class _Curve(Protocol):
    @property
    def intercept(self) -> float: ...

    @property
    def slope(self) -> float: ...


class PricingPolicy:
    """Chooses prices from propensity curves inside the guardrails of a PolicyConfig."""

    def __init__(self, config: PolicyConfig | None = None) -> None:
        self.config = config or PolicyConfig()
        digest = hashlib.sha256(repr(sorted(asdict(self.config).items())).encode()).hexdigest()
        self.version = f"{POLICY_NAME}-{digest[:8]}"

    def quote(
        self,
        list_price: float,
        curve: PropensityCurve | _Curve | None,
        previous: PreviousOffer | None,
        event_time_ms: int,
    ) -> PriceQuote:
        """Price one item for one user at ``event_time_ms``.

        Raises ValueError when ``list_price`` is not a finite number > 0; callers pass only
        validated prices.
        """
        if not (math.isfinite(list_price) and list_price > 0.0):
            msg = f"'list_price' must be a finite number > 0 (got {list_price!r})"
            raise ValueError(msg)
        config = self.config
        floor = list_price * (1.0 - config.max_discount)
        ceiling = list_price * (1.0 + config.max_markup)

        reasons: list[str] = []
        coefficients = _usable_coefficients(curve)
        if coefficients is None:
            missing = _is_flat_or_missing(curve)
            reasons.append(Reason.NO_MODEL_SIGNAL if missing else Reason.INVALID_MODEL_OUTPUT)
            target_log = math.log(list_price)
        else:
            target_log = math.log(list_price) + _optimal_log_ratio(*coefficients)

        # Step 1: the price inside the list-price bounds alone.
        cents = _cent_bounds(floor, ceiling)
        if coefficients is not None:
            reasons.append(_bound_reason(target_log, floor, ceiling, list_price))
        else:
            reasons.append(Reason.LIST_PRICE)
        if cents is None:
            reasons.append(Reason.SUB_CENT_RANGE)
            price = ceiling
            baseline = ceiling
        else:
            bounded = _rounded_choice(target_log, cents, list_price, coefficients)
            # Step 2: the change limit narrows the bounds around the earlier offer.
            limited = _change_limited_cents(cents, previous, event_time_ms, config)
            price = _rounded_choice(target_log, limited, list_price, coefficients)
            if price != bounded:
                reasons.append(Reason.CHANGE_LIMIT)
            baseline = _rounded_choice(math.log(list_price), cents, list_price, None)

        probability = None
        if coefficients is not None:
            probability = _probability(coefficients, price, list_price)
        return PriceQuote(
            list_price=list_price,
            price=price,
            discount=round(1.0 - price / list_price, 6),
            purchase_probability=probability,
            personalized=price != baseline,
            reasons=tuple(dict.fromkeys(reasons)),
        )


def _usable_coefficients(curve: _Curve | None) -> tuple[float, float] | None:
    if curve is None:
        return None
    try:
        intercept = float(curve.intercept)
        slope = float(curve.slope)
    except (TypeError, ValueError, AttributeError):
        return None
    if not (math.isfinite(intercept) and math.isfinite(slope)) or slope >= 0.0:
        return None
    return intercept, slope


def _is_flat_or_missing(curve: _Curve | None) -> bool:
    if curve is None:
        return True
    try:
        return float(curve.slope) == 0.0 and math.isfinite(float(curve.intercept))
    except (TypeError, ValueError, AttributeError):
        return False


def _optimal_log_ratio(intercept: float, slope: float) -> float:
    """Return log(price / list) maximizing price * sigmoid(a + b * log(price / list))."""
    if slope >= -1.0:
        # Demand is inelastic: revenue rises with the price, so the upper bound wins.
        return math.inf
    # The optimum solves sigmoid(z) = 1 + 1/b, that is z = log(-b - 1).
    return (math.log(-slope - 1.0) - intercept) / slope


def _bound_reason(target_log: float, floor: float, ceiling: float, list_price: float) -> str:
    if target_log < math.log(floor):
        return Reason.MAX_DISCOUNT_FLOOR
    if target_log >= math.log(ceiling):
        return Reason.LIST_PRICE if ceiling == list_price else Reason.MAX_MARKUP_CEILING
    if target_log >= math.log(list_price) and ceiling == list_price:
        return Reason.LIST_PRICE
    return Reason.REVENUE_OPTIMUM


def _change_limited_cents(
    cents: tuple[int, int],
    previous: PreviousOffer | None,
    event_time_ms: int,
    config: PolicyConfig,
) -> tuple[int, int]:
    """Narrow the whole-cent bounds to the change limit around an earlier offer."""
    if previous is None or not (math.isfinite(previous.price) and previous.price > 0.0):
        return cents
    # Events of one user can arrive slightly out of event-time order, so an offer that
    # is later than this event also counts when it is inside the window.
    if abs(event_time_ms - previous.event_time_ms) >= config.change_window_s * 1000.0:
        return cents
    low_cents, high_cents = cents
    # The relative slack of 1e-12 absorbs float error in price * (1 +- max_change), so an
    # offer of exactly 10% less is not pushed to the next cent.
    limit = _cent_bounds(
        previous.price * (1.0 - config.max_change) * (1.0 - 1e-12),
        previous.price * (1.0 + config.max_change) * (1.0 + 1e-12),
    )
    if limit is None:
        # No whole cent lies inside the limit interval, so keep the cent nearest the offer.
        nearest = min(max(round(previous.price * 100.0), low_cents), high_cents)
        return nearest, nearest
    low = max(low_cents, limit[0])
    high = min(high_cents, limit[1])
    if low <= high:
        return low, high
    # The earlier offer is too far from today's bounds: the bounds win, and the price
    # moves to the bound nearest to the earlier offer.
    nearest = low_cents if limit[1] < low_cents else high_cents
    return nearest, nearest


def _cent_bounds(low: float, high: float) -> tuple[int, int] | None:
    """Return the smallest and largest whole-cent counts inside [low, high], if any."""
    # low * 100 and high * 100 carry float error (2552.93 * 100 is 255292.99999999997),
    # so each estimate is corrected by comparing the cent values with the bounds directly.
    low_cents = math.ceil(low * 100.0)
    while low_cents / 100.0 < low:
        low_cents += 1
    while (low_cents - 1) / 100.0 >= low:
        low_cents -= 1
    high_cents = math.floor(high * 100.0)
    while high_cents / 100.0 > high:
        high_cents -= 1
    while (high_cents + 1) / 100.0 <= high:
        high_cents += 1
    if low_cents > high_cents:
        return None
    return low_cents, high_cents


def _rounded_choice(
    target_log: float,
    cents: tuple[int, int],
    list_price: float,
    coefficients: tuple[float, float] | None,
) -> float:
    """Return the whole-cent price within ``cents`` nearest the target, by revenue."""
    low_cents, high_cents = cents
    low_log = math.log(low_cents / 100.0)
    high_log = math.log(high_cents / 100.0)
    target = math.exp(min(max(target_log, low_log), high_log))
    below = min(max(math.floor(target * 100.0), low_cents), high_cents)
    above = min(below + 1, high_cents)
    candidates = sorted({above, below}, reverse=True)
    if coefficients is None:
        # Without a curve, take the cent value nearest the target, the higher one on a tie.
        best = min(candidates, key=lambda c: abs(c / 100.0 - target))
        return best / 100.0
    # Revenue is unimodal, so the better of the two neighbouring cents is the optimum.
    best = max(
        candidates,
        key=lambda c: c / 100.0 * _probability(coefficients, c / 100.0, list_price),
    )
    return best / 100.0


def _probability(coefficients: tuple[float, float], price: float, list_price: float) -> float:
    intercept, slope = coefficients
    z = intercept + slope * math.log(price / list_price)
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
