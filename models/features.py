"""Per-event input features shared by training and serving, so both encode events alike."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "DENSE_FEATURE_NAMES",
    "EVENT_TYPES",
    "FeatureStats",
    "ModelInputError",
    "dense_features",
    "event_type_index",
]

# The index of each event type is its row in the event-type embedding.
EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
_EVENT_TYPE_INDEX = {name: index for index, name in enumerate(EVENT_TYPES)}

DENSE_FEATURE_NAMES = (
    "log_price_ratio",  # log(price / item reference price), clipped to +-PRICE_RATIO_CLIP
    "price_known",  # 1.0 when the event carries a price
    "price_level",  # standardised log price, clipped to +-PRICE_LEVEL_CLIP
    "log_gap",  # log1p(seconds since the previous event) / log1p(GAP_SCALE_S)
    "first_event",  # 1.0 for the first event of a sequence
)
PRICE_RATIO_CLIP = 2.0
PRICE_LEVEL_CLIP = 4.0
GAP_SCALE_S = 30 * 24 * 3600.0


class ModelInputError(ValueError):
    """An event field holds a value the model cannot encode."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"{field!r} must be {expected} (got {value!r})")
        self.field = field
        self.value = value


@dataclass(frozen=True)
class FeatureStats:
    """Normalisation constants measured on the training part of a log.

    ``log_price_mean`` and ``log_price_std`` describe the natural log of the prices seen in
    training. A log without prices stores 0.0 and 1.0 and sets ``has_prices`` to False.
    """

    log_price_mean: float = 0.0
    log_price_std: float = 1.0
    has_prices: bool = False


def event_type_index(event_type: str) -> int:
    """Return the embedding row of ``event_type``; raise ModelInputError for other names."""
    index = _EVENT_TYPE_INDEX.get(event_type)
    if index is None:
        raise ModelInputError(
            field="event_type", value=event_type, expected=f"one of {', '.join(EVENT_TYPES)}"
        )
    return index


def _clip(value: float, limit: float) -> float:
    return max(-limit, min(limit, value))


def dense_features(
    price: float | None,
    reference_price: float | None,
    seconds_since_previous: float | None,
    stats: FeatureStats,
) -> tuple[float, float, float, float, float]:
    """Encode price and time gap as the values named in DENSE_FEATURE_NAMES.

    A negative gap (an event older than the previous one) counts as 0 seconds.
    """
    if price is not None and not (math.isfinite(price) and price > 0):
        raise ModelInputError(field="price", value=price, expected="a finite number > 0 or None")
    if seconds_since_previous is not None and not math.isfinite(seconds_since_previous):
        raise ModelInputError(
            field="seconds_since_previous", value=seconds_since_previous, expected="finite or None"
        )

    if price is None:
        ratio = known = level = 0.0
    else:
        known = 1.0
        log_price = math.log(price)
        level = _clip((log_price - stats.log_price_mean) / stats.log_price_std, PRICE_LEVEL_CLIP)
        ratio = 0.0
        if reference_price is not None and reference_price > 0:
            ratio = _clip(log_price - math.log(reference_price), PRICE_RATIO_CLIP)

    if seconds_since_previous is None:
        gap, first = 0.0, 1.0
    else:
        gap = math.log1p(max(0.0, seconds_since_previous)) / math.log1p(GAP_SCALE_S)
        first = 0.0
    return (ratio, known, level, gap, first)
