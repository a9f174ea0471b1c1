"""Per-user state: behaviour features, model hidden state and pricing memory, as bytes.

Everything here is updated incrementally, one event at a time, and depends only on the
user's own events in arrival order and their event times, never on wall-clock time.

Stored bytes are one orjson object with a schema version ``v``. Repeated structures are
arrays, which keeps one user's state small (a few KiB with the default bounds)::

    {"v": 1,
     "counts": {"view": 3, "purchase": 1},            # events by type
     "first_ms": 1569888000000, "last_ms": 1569888300000,
     "session": [session_id, started_ms, events, sessions],
     "prices": [count, mean, m2, min, max],           # Welford statistics of seen prices
     "recent": [[item_id, event_type, price, category, event_time_ms, gap_s], ...],
     "ids": [event_id, ...],                          # recent event ids, oldest first
     "seen": {item_id: [price, event_time_ms]},       # last list price seen per item
     "offers": {item_id: [price, event_time_ms]},     # last price offered per item
     "hidden": base64 of the GRU hidden state, "model": model version}
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from app.events import Event

__all__ = [
    "DEFAULT_LIMITS",
    "PriceStats",
    "RecentEvent",
    "SessionStats",
    "StateDecodeError",
    "StateLimits",
    "TimedPrice",
    "UserState",
    "apply_event",
    "decode_state",
    "encode_state",
    "is_duplicate",
    "seconds_since_previous",
    "with_hidden",
    "with_offers",
]

SCHEMA_VERSION = 1


class StateDecodeError(ValueError):
    """Stored bytes do not hold a user state of a schema version this code reads."""


@dataclass(frozen=True)
class StateLimits:
    """Bounds on the per-user collections, and the session gap rule."""

    recent_events: int = 32
    """Events kept in the ring buffer used to rebuild the hidden state."""
    recent_event_ids: int = 128
    """Event ids kept for duplicate suppression."""
    tracked_items: int = 64
    """Items whose last seen list price, and separately last offer, are kept."""
    session_gap_s: float = 30 * 60.0
    """Event-time gap that starts a new session when events carry no session_id."""


DEFAULT_LIMITS = StateLimits()


@dataclass(frozen=True)
class RecentEvent:
    """One event in the ring buffer, with the event-time gap the model saw for it."""

    item_id: str
    event_type: str
    price: float
    category: str | None
    event_time_ms: int
    gap_s: float | None


@dataclass(frozen=True)
class SessionStats:
    """The current session and the number of sessions so far."""

    session_id: str | None = None
    started_ms: int | None = None
    events: int = 0
    sessions: int = 0


@dataclass(frozen=True)
class PriceStats:
    """Running statistics of the list prices the user has seen (Welford's algorithm)."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float | None = None
    maximum: float | None = None

    @property
    def std(self) -> float:
        """Population standard deviation; 0.0 with fewer than two prices."""
        return math.sqrt(self.m2 / self.count) if self.count > 1 else 0.0


@dataclass(frozen=True)
class TimedPrice:
    """A price and the event time it belongs to."""

    price: float
    event_time_ms: int


@dataclass(frozen=True)
class UserState:
    """Everything the pipeline keeps about one user; replace it, never mutate it."""

    counts: Mapping[str, int] = field(default_factory=dict)
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    session: SessionStats = SessionStats()
    prices: PriceStats = PriceStats()
    recent_events: tuple[RecentEvent, ...] = ()
    recent_event_ids: tuple[str, ...] = ()
    seen_prices: Mapping[str, TimedPrice] = field(default_factory=dict)
    offers: Mapping[str, TimedPrice] = field(default_factory=dict)
    hidden: bytes | None = None
    model_version: str | None = None


def is_duplicate(state: UserState, event_id: str) -> bool:
    """Tell whether ``event_id`` is among the user's recently processed event ids."""
    return event_id in state.recent_event_ids


def seconds_since_previous(state: UserState, event: Event) -> float | None:
    """Return the event-time gap to the user's latest event so far; None for the first.

    An event older than the latest one (out of order) gets a gap of 0.0.
    """
    if state.last_event_ms is None:
        return None
    return max(0.0, (event.event_time_ms - state.last_event_ms) / 1000.0)


def apply_event(state: UserState, event: Event, limits: StateLimits = DEFAULT_LIMITS) -> UserState:
    """Return the state after ``event``: counters, session, prices, ring buffer, ids.

    The hidden state and offers are set separately with with_hidden and with_offers.
    """
    event_ms = event.event_time_ms
    gap_s = seconds_since_previous(state, event)

    counts = dict(state.counts)
    counts[event.event_type] = counts.get(event.event_type, 0) + 1

    recent = RecentEvent(
        item_id=event.item_id,
        event_type=event.event_type,
        price=event.price,
        category=event.category,
        event_time_ms=event_ms,
        gap_s=gap_s,
    )
    seen = _bounded_put(
        state.seen_prices, event.item_id, TimedPrice(event.price, event_ms), limits.tracked_items
    )
    return replace(
        state,
        counts=counts,
        first_event_ms=event_ms if state.first_event_ms is None else state.first_event_ms,
        last_event_ms=event_ms
        if state.last_event_ms is None
        else max(state.last_event_ms, event_ms),
        session=_next_session(state.session, event, gap_s, limits),
        prices=_next_prices(state.prices, event.price),
        recent_events=(*state.recent_events, recent)[-limits.recent_events :],
        recent_event_ids=(*state.recent_event_ids, event.event_id)[-limits.recent_event_ids :],
        seen_prices=seen,
    )


def with_hidden(state: UserState, hidden: bytes, model_version: str) -> UserState:
    """Return the state with a new GRU hidden state computed by ``model_version``."""
    return replace(state, hidden=hidden, model_version=model_version)


def with_offers(
    state: UserState,
    offers: Iterable[tuple[str, float]],
    event_time_ms: int,
    limits: StateLimits = DEFAULT_LIMITS,
) -> UserState:
    """Return the state remembering the prices just offered, for the change limit."""
    current = dict(state.offers)
    for item_id, price in offers:
        current.pop(item_id, None)
        current[item_id] = TimedPrice(price, event_time_ms)
    _evict_oldest(current, limits.tracked_items)
    return replace(state, offers=current)


def _next_session(
    session: SessionStats, event: Event, gap_s: float | None, limits: StateLimits
) -> SessionStats:
    if event.session_id is not None:
        new_session = event.session_id != session.session_id
    else:
        new_session = (
            gap_s is None or session.session_id is not None or gap_s > limits.session_gap_s
        )
    if new_session:
        return SessionStats(
            session_id=event.session_id,
            started_ms=event.event_time_ms,
            events=1,
            sessions=session.sessions + 1,
        )
    return replace(session, events=session.events + 1)


def _next_prices(stats: PriceStats, price: float) -> PriceStats:
    count = stats.count + 1
    delta = price - stats.mean
    mean = stats.mean + delta / count
    return PriceStats(
        count=count,
        mean=mean,
        m2=stats.m2 + delta * (price - mean),
        minimum=price if stats.minimum is None else min(stats.minimum, price),
        maximum=price if stats.maximum is None else max(stats.maximum, price),
    )


def _bounded_put(
    prices: Mapping[str, TimedPrice], item_id: str, value: TimedPrice, limit: int
) -> dict[str, TimedPrice]:
    """Insert or replace one item, evicting the items with the oldest event times."""
    updated = dict(prices)
    updated.pop(item_id, None)
    updated[item_id] = value
    _evict_oldest(updated, limit)
    return updated


def _evict_oldest(prices: dict[str, TimedPrice], limit: int) -> None:
    excess = len(prices) - limit
    if excess <= 0:
        return
    # Oldest event time first; among equal times the one inserted first (sorted is stable).
    for key in sorted(prices, key=lambda key: prices[key].event_time_ms)[:excess]:
        del prices[key]


def encode_state(state: UserState) -> bytes:
    """Serialize a user state to compact bytes (layout in the module docstring)."""
    session = state.session
    prices = state.prices
    document = {
        "v": SCHEMA_VERSION,
        "counts": dict(state.counts),
        "first_ms": state.first_event_ms,
        "last_ms": state.last_event_ms,
        "session": [session.session_id, session.started_ms, session.events, session.sessions],
        "prices": [prices.count, prices.mean, prices.m2, prices.minimum, prices.maximum],
        "recent": [
            [e.item_id, e.event_type, e.price, e.category, e.event_time_ms, e.gap_s]
            for e in state.recent_events
        ],
        "ids": list(state.recent_event_ids),
        "seen": {key: [p.price, p.event_time_ms] for key, p in state.seen_prices.items()},
        "offers": {key: [p.price, p.event_time_ms] for key, p in state.offers.items()},
        "hidden": None if state.hidden is None else base64.b64encode(state.hidden).decode(),
        "model": state.model_version,
    }
    return orjson.dumps(document)


def decode_state(data: bytes) -> UserState:
    """Read bytes written by encode_state; raises StateDecodeError."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        msg = f"user state is not valid JSON: {error}"
        raise StateDecodeError(msg) from error
    if not isinstance(document, dict) or document.get("v") != SCHEMA_VERSION:
        found = document.get("v") if isinstance(document, dict) else type(document).__name__
        msg = f"user state must have schema version {SCHEMA_VERSION} (got {found!r})"
        raise StateDecodeError(msg)
    try:
        return _state_from_document(document)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        msg = f"user state of schema version {SCHEMA_VERSION} is malformed: {error!r}"
        raise StateDecodeError(msg) from error


def _state_from_document(document: dict[str, Any]) -> UserState:
    session_id, started_ms, session_events, sessions = document["session"]
    count, mean, m2, minimum, maximum = document["prices"]
    hidden = document["hidden"]
    return UserState(
        counts={str(key): int(value) for key, value in document["counts"].items()},
        first_event_ms=document["first_ms"],
        last_event_ms=document["last_ms"],
        session=SessionStats(session_id, started_ms, session_events, sessions),
        prices=PriceStats(count, mean, m2, minimum, maximum),
        recent_events=tuple(RecentEvent(*entry) for entry in document["recent"]),
        recent_event_ids=tuple(document["ids"]),
        seen_prices={key: TimedPrice(*value) for key, value in document["seen"].items()},
        offers={key: TimedPrice(*value) for key, value in document["offers"].items()},
        hidden=None if hidden is None else base64.b64decode(hidden, validate=True),
        model_version=document["model"],
    )
