"""The input event contract: decode raw record bytes once into a validated, typed Event."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "EVENT_TYPES",
    "MAX_ID_CHARS",
    "MAX_PRICE",
    "Event",
    "InvalidEventError",
    "decode_event",
    "event_time_bounds",
]

EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
# Older producers send `click` for a product view.
EVENT_TYPE_ALIASES = {"click": "view"}

DEFAULT_MAX_EVENT_BYTES = 64 * 1024
# Identifiers are kept in per-user state (recent event ids, per-item prices), so their
# length is bounded to keep one user's state small.
MAX_ID_CHARS = 256
# Prices above this are treated as input errors; the bound also keeps cent arithmetic
# (price * 100) far from float overflow.
MAX_PRICE = 1e9
MAX_QUANTITY = 1_000_000

# Event times outside [2000-01-01, 2100-01-01) UTC are rejected. The lower bound also
# catches epoch seconds sent where epoch milliseconds are expected (they land in 1970).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_EVENT_TIME = datetime(2100, 1, 1, tzinfo=UTC)


class InvalidEventError(ValueError):
    """A record's value is not a valid event.

    ``reason`` is a stable code callers branch on, for example ``missing_field``.
    ``field`` names the offending field, or is None when the record as a whole is bad.
    """

    def __init__(self, reason: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Event:
    """One validated user event; ``event_time`` is timezone-aware UTC."""

    event_id: str
    user_id: str
    event_time: datetime
    event_type: str
    item_id: str
    price: float
    session_id: str | None = None
    category: str | None = None
    brand: str | None = None
    quantity: int | None = None

    @property
    def event_time_ms(self) -> int:
        """Event time as whole milliseconds since the Unix epoch."""
        return _to_epoch_ms(self.event_time)


def event_time_bounds() -> tuple[datetime, datetime]:
    """Return the accepted event time range, lower bound included, upper excluded."""
    return _MIN_EVENT_TIME, _MAX_EVENT_TIME


def decode_event(raw: bytes, *, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> Event:
    """Parse and validate one record value.

    Required: ``event_id``, ``user_id``, ``item_id`` (non-empty strings), ``event_time``
    (ISO-8601 string with a time zone, or epoch milliseconds as a number), ``event_type``
    (one of EVENT_TYPES, or ``click`` for ``view``) and ``price`` (finite, > 0). Optional:
    ``session_id``, ``category``, ``brand`` (strings; null or "" mean absent) and
    ``quantity`` (whole number > 0). Unknown extra fields are ignored.

    Raises InvalidEventError with a stable ``reason`` code.
    """
    if len(raw) > max_bytes:
        raise InvalidEventError(
            reason="oversize",
            field=None,
            message=f"event is {len(raw)} bytes, more than the limit of {max_bytes}",
        )
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        _raise_for_non_finite_price(raw)
        raise InvalidEventError(
            reason="invalid_json", field=None, message=f"value is not valid JSON: {error}"
        ) from None
    if not isinstance(document, dict):
        raise InvalidEventError(
            reason="wrong_type",
            field=None,
            message=f"event must be a JSON object (got {_json_type(document)})",
        )

    return Event(
        event_id=_required_id(document, "event_id"),
        user_id=_required_id(document, "user_id"),
        event_time=_event_time(document),
        event_type=_event_type(document),
        item_id=_required_id(document, "item_id"),
        price=_price(document),
        session_id=_optional_text(document, "session_id"),
        category=_optional_text(document, "category"),
        brand=_optional_text(document, "brand"),
        quantity=_quantity(document),
    )


def _raise_for_non_finite_price(raw: bytes) -> None:
    """Raise invalid_price when ``raw`` is JSON but for a NaN or infinite price.

    NaN, Infinity and numbers beyond the float range are not JSON, so orjson rejects the
    whole record. Python's json module reads them as non-finite floats, which lets a
    producer's bad price be reported as a price problem rather than as broken JSON.
    """
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return
    if not isinstance(document, dict):
        return
    price = document.get("price")
    if isinstance(price, float) and not math.isfinite(price):
        raise InvalidEventError(
            reason="invalid_price",
            field="price",
            message=f"'price' must be a finite number > 0 (got {price!r})",
        )


def _required(document: dict[str, Any], field: str) -> Any:
    value = document.get(field)
    if value is None:
        raise InvalidEventError(
            reason="missing_field", field=field, message=f"'{field}' is required but missing"
        )
    return value


def _required_id(document: dict[str, Any], field: str) -> str:
    value = _required(document, field)
    if not isinstance(value, str):
        raise InvalidEventError(
            reason="wrong_type",
            field=field,
            message=f"'{field}' must be a string (got {_json_type(value)})",
        )
    if not value:
        raise InvalidEventError(
            reason="empty_field", field=field, message=f"'{field}' must not be empty"
        )
    _check_length(field, value)
    return value


def _check_length(field: str, value: str) -> None:
    if len(value) > MAX_ID_CHARS:
        raise InvalidEventError(
            reason="field_too_long",
            field=field,
            message=f"'{field}' must be at most {MAX_ID_CHARS} characters (got {len(value)})",
        )


def _optional_text(document: dict[str, Any], field: str) -> str | None:
    value = document.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEventError(
            reason="wrong_type",
            field=field,
            message=f"'{field}' must be a string or null (got {_json_type(value)})",
        )
    _check_length(field, value)
    return value


def _event_type(document: dict[str, Any]) -> str:
    value = _required(document, "event_type")
    if not isinstance(value, str):
        raise InvalidEventError(
            reason="wrong_type",
            field="event_type",
            message=f"'event_type' must be a string (got {_json_type(value)})",
        )
    value = EVENT_TYPE_ALIASES.get(value, value)
    if value not in EVENT_TYPES:
        raise InvalidEventError(
            reason="unknown_event_type",
            field="event_type",
            message=(
                f"'event_type' must be one of {', '.join(EVENT_TYPES)} or click (got {value!r})"
            ),
        )
    return value


def _price(document: dict[str, Any]) -> float:
    value = _required(document, "price")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidEventError(
            reason="wrong_type",
            field="price",
            message=f"'price' must be a number (got {_json_type(value)})",
        )
    price = float(value)
    if not math.isfinite(price) or price <= 0 or price > MAX_PRICE:
        raise InvalidEventError(
            reason="invalid_price",
            field="price",
            message=f"'price' must be a finite number > 0 and <= {MAX_PRICE:g} (got {value!r})",
        )
    return price


def _quantity(document: dict[str, Any]) -> int | None:
    value = document.get("quantity")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(
            reason="wrong_type",
            field="quantity",
            message=f"'quantity' must be a whole number or null (got {_json_type(value)})",
        )
    if not 0 < value <= MAX_QUANTITY:
        raise InvalidEventError(
            reason="invalid_quantity",
            field="quantity",
            message=f"'quantity' must be between 1 and {MAX_QUANTITY} (got {value})",
        )
    return value


def _event_time(document: dict[str, Any]) -> datetime:
    value = _required(document, "event_time")
    if isinstance(value, bool):
        raise InvalidEventError(
            reason="wrong_type",
            field="event_time",
            message="'event_time' must be an ISO-8601 string or epoch milliseconds (got a boolean)",
        )
    if isinstance(value, int | float):
        moment = _from_epoch_ms(value)
    elif isinstance(value, str):
        moment = _from_iso(value)
    else:
        raise InvalidEventError(
            reason="wrong_type",
            field="event_time",
            message="'event_time' must be an ISO-8601 string or epoch milliseconds "
            f"(got {_json_type(value)})",
        )
    if not _MIN_EVENT_TIME <= moment < _MAX_EVENT_TIME:
        raise InvalidEventError(
            reason="invalid_timestamp",
            field="event_time",
            message=f"'event_time' must be between {_MIN_EVENT_TIME.isoformat()} and "
            f"{_MAX_EVENT_TIME.isoformat()} (got {value!r})",
        )
    return moment


def _from_epoch_ms(value: float) -> datetime:
    if not math.isfinite(value) or abs(value) > 1e15:
        raise InvalidEventError(
            reason="invalid_timestamp",
            field="event_time",
            message=f"'event_time' in epoch milliseconds is out of range (got {value!r})",
        )
    return _EPOCH + timedelta(milliseconds=value)


def _from_iso(value: str) -> datetime:
    # A time without a zone is rejected instead of guessed: reading local time as UTC
    # would silently shift every event-time window by the producer's offset.
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidEventError(
            reason="invalid_timestamp",
            field="event_time",
            message=f"'event_time' must be an ISO-8601 date and time (got {value!r})",
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError(
            reason="invalid_timestamp",
            field="event_time",
            message=(
                f"'event_time' must include a time zone such as 'Z' or '+00:00' (got {value!r})"
            ),
        )
    return moment.astimezone(UTC)


def _to_epoch_ms(moment: datetime) -> int:
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
