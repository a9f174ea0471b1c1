"""The pricing engine: one consumed record in, exactly one outcome out.

The same engine runs inside the Kafka worker and the embedded replay. Apart from
``decided_at`` and ``received_at``, which come from the clock, every outcome depends only
on the record and the user's earlier records, so both give identical decisions for the
same log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

import numpy as np

from app.catalog import ItemCatalog
from app.dead_letter import DeadLetter, encode_dead_letter
from app.decision import PriceDecision, Recommendation, decision_id_for, encode_decision
from app.events import DEFAULT_MAX_EVENT_BYTES, Event, InvalidEventError, decode_event
from app.pricing import PreviousOffer, PriceQuote, PricingPolicy
from app.source import Source
from app.state_store import StateStore
from app.user_state import (
    DEFAULT_LIMITS,
    RecentEvent,
    StateDecodeError,
    StateLimits,
    UserState,
    apply_event,
    decode_state,
    encode_state,
    is_duplicate,
    seconds_since_previous,
    with_hidden,
    with_offers,
)
from models.serving import ModelEvent, PropensityCurve, SequenceModel

__all__ = [
    "ENGINE_STAGES",
    "Accepted",
    "Duplicate",
    "Outcome",
    "PricingEngine",
    "RejectReason",
    "Rejected",
    "Source",
    "StageObserver",
]

log = logging.getLogger(__name__)

DEFAULT_RECOMMENDATIONS = 10

# Stages of PricingEngine.process timed for a StageObserver, in the order they run:
# decode (bytes to a validated Event), state_read (store get and decode), model_step (the
# GRU step, including a hidden-state rebuild), scoring (top-k items and the propensity
# curve), pricing (state update, policy quotes, the decision object), state_write (encode
# and store set), encode (the decision to JSON bytes). Rejected records time only decode.
ENGINE_STAGES = (
    "decode",
    "state_read",
    "model_step",
    "scoring",
    "pricing",
    "state_write",
    "encode",
)

StageObserver = Callable[[str, float], None]
"""Receives a stage name and its duration in seconds, once per stage and record."""


class RejectReason:
    """Dead-letter reason codes the engine adds to those of InvalidEventError."""

    MISSING_VALUE = "missing_value"
    """The record has no value (a tombstone)."""
    MISSING_KEY = "missing_key"
    """The record has no key, so it cannot be routed to its user's partition."""
    KEY_MISMATCH = "key_mismatch"
    """The record key differs from the event's user_id."""


# Reason attached to a recommended item whose list price is unknown, because the user
# never saw a price for it and the artifact has none. Such an item gets no price.
UNKNOWN_LIST_PRICE = "unknown_list_price"


@dataclass(frozen=True)
class Accepted:
    """A decision for the ``prices`` topic, keyed by the user id."""

    decision: PriceDecision
    key: bytes
    value: bytes


@dataclass(frozen=True)
class Rejected:
    """A dead letter for the dead-letter topic, keyed by the original record key."""

    dead_letter: DeadLetter
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class Duplicate:
    """An event id this user already had processed recently; nothing is sent."""

    event_id: str
    user_id: str


Outcome = Accepted | Rejected | Duplicate


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PricingEngine:
    """Turns consumed records into decisions, dead letters or counted duplicates.

    ``store`` stores each user's state as bytes. The engine reads it once and writes it
    once per accepted event. ``catalog`` defaults to the model's own vocabulary.
    ``observe_stage``, when given, receives the duration of each of ENGINE_STAGES.
    """

    def __init__(
        self,
        model: SequenceModel,
        store: StateStore,
        policy: PricingPolicy | None = None,
        catalog: ItemCatalog | None = None,
        clock: Callable[[], datetime] = _utc_now,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        *,
        recommendations: int = DEFAULT_RECOMMENDATIONS,
        limits: StateLimits = DEFAULT_LIMITS,
        observe_stage: StageObserver | None = None,
    ) -> None:
        self._model = model
        self._store = store
        self._policy = policy or PricingPolicy()
        self._catalog = (
            catalog if catalog is not None else ItemCatalog.from_entries(model.catalog())
        )
        self._clock = clock
        self._max_event_bytes = max_event_bytes
        self._recommendations = recommendations
        self._limits = limits
        self._counters: Counter[str] = Counter()
        self._observe_stage = observe_stage
        log.info(
            "pricing engine ready: model %s, policy %s, %d catalog items, "
            "%d recommendations per decision, max event size %d bytes",
            model.version,
            self._policy.version,
            len(self._catalog),
            recommendations,
            max_event_bytes,
        )

    @property
    def counters(self) -> Mapping[str, int]:
        """Counts so far: ``events``, ``decisions``, ``duplicates``, ``dead_letters``.

        Dead letters are also counted per reason as ``dead_letters.<reason>``.
        ``hidden_rebuilds`` counts users whose hidden state was rebuilt for a new model
        version, and ``state_resets`` counts users whose stored state could not be read.
        """
        return MappingProxyType(dict(self._counters))

    @property
    def policy(self) -> PricingPolicy:
        """The pricing policy in use."""
        return self._policy

    def process(self, key: bytes | None, value: bytes | None, source: Source) -> Outcome:
        """Turn one record into exactly one outcome.

        Bad input (no value, an invalid event, a wrong key) becomes a Rejected outcome and
        never raises. Failures of the model or the store are not input errors and propagate.
        """
        self._counters["events"] += 1
        if value is None:
            return self._reject(
                key, None, source, RejectReason.MISSING_VALUE, None, "record has no value"
            )
        started = time.perf_counter()
        try:
            event = decode_event(value, max_bytes=self._max_event_bytes)
        except InvalidEventError as error:
            return self._reject(key, value, source, error.reason, error.field, error.message)
        finally:
            started = self._lap("decode", started)

        expected_key = event.user_id.encode("utf-8")
        if key is None:
            message = (
                f"record key is missing; it must be the event's user_id {event.user_id!r} "
                "so that the user's state stays in one partition"
            )
            return self._reject(key, value, source, RejectReason.MISSING_KEY, "user_id", message)
        if key != expected_key:
            message = f"record key must equal the event's user_id {event.user_id!r} (got {key!r})"
            return self._reject(key, value, source, RejectReason.KEY_MISMATCH, "user_id", message)

        state = self._load_state(event.user_id)
        started = self._lap("state_read", started)
        if is_duplicate(state, event.event_id):
            self._counters["duplicates"] += 1
            return Duplicate(event_id=event.event_id, user_id=event.user_id)

        decision, state = self._decide(event, state, started)
        started = time.perf_counter()
        self._store.set(event.user_id, encode_state(state))
        started = self._lap("state_write", started)
        value = encode_decision(decision)
        self._lap("encode", started)
        self._counters["decisions"] += 1
        return Accepted(decision=decision, key=expected_key, value=value)

    def _lap(self, stage: str, started: float) -> float:
        """Report the time since ``started`` as ``stage``; return the current time."""
        now = time.perf_counter()
        if self._observe_stage is not None:
            self._observe_stage(stage, now - started)
        return now

    def _decide(
        self, event: Event, state: UserState, started: float
    ) -> tuple[PriceDecision, UserState]:
        model = self._model

        # One GRU step on the event, from the stored (or rebuilt) hidden state.
        hidden = self._current_hidden(state)
        model_event = ModelEvent(
            item_id=event.item_id,
            event_type=event.event_type,
            price=event.price,
            category=event.category,
            seconds_since_previous=seconds_since_previous(state, event),
        )
        hidden = model.step(hidden, [model_event])
        started = self._lap("model_step", started)
        scores = model.score(hidden, k=self._recommendations, exclude=[{event.item_id}])[0]
        started = self._lap("scoring", started)
        curve = scores.propensity
        state = apply_event(state, event, self._limits)

        # Price the event's item, then each recommended item at this user's list price.
        event_ms = event.event_time_ms
        quote = self._quote(event.price, curve, state, event.item_id, event_ms)
        offers = [(event.item_id, quote.price)]
        recommendations = []
        for item_id, score in zip(scores.item_ids, scores.scores, strict=True):
            recommendation = self._recommend(item_id, score, curve, state, event_ms)
            recommendations.append(recommendation)
            if recommendation.price is not None:
                offers.append((item_id, recommendation.price))

        state = with_hidden(state, model.hidden_to_bytes(hidden[0]), model.version)
        state = with_offers(state, offers, event_ms, self._limits)
        decision = PriceDecision(
            decision_id=decision_id_for(event.user_id, event.event_id),
            event_id=event.event_id,
            user_id=event.user_id,
            item_id=event.item_id,
            list_price=event.price,
            price=quote.price,
            discount=quote.discount,
            purchase_probability=quote.purchase_probability,
            personalized=quote.personalized,
            recommendations=tuple(recommendations),
            reasons=quote.reasons,
            model_version=model.version,
            policy_version=self._policy.version,
            event_time=event.event_time,
            decided_at=self._clock(),
        )
        self._lap("pricing", started)
        return decision, state

    def _recommend(
        self,
        item_id: str,
        score: float,
        curve: PropensityCurve,
        state: UserState,
        event_ms: int,
    ) -> Recommendation:
        list_price = self._catalog.list_price(item_id, state)
        if list_price is None:
            return Recommendation(item_id, score, None, None, False, (UNKNOWN_LIST_PRICE,))
        quote = self._quote(list_price, curve, state, item_id, event_ms)
        return Recommendation(
            item_id=item_id,
            score=score,
            list_price=list_price,
            price=quote.price,
            personalized=quote.personalized,
            reasons=quote.reasons,
        )

    def _quote(
        self,
        list_price: float,
        curve: PropensityCurve,
        state: UserState,
        item_id: str,
        event_ms: int,
    ) -> PriceQuote:
        offer = state.offers.get(item_id)
        previous = None if offer is None else PreviousOffer(offer.price, offer.event_time_ms)
        return self._policy.quote(list_price, curve, previous, event_ms)

    def _current_hidden(self, state: UserState) -> np.ndarray:
        """Return the user's hidden state (1, H), rebuilt when the model version changed."""
        model = self._model
        if state.hidden is not None and state.model_version == model.version:
            try:
                return model.hidden_from_bytes(state.hidden).reshape(1, -1)
            except ValueError as error:
                log.warning("stored hidden state unreadable, rebuilding it: %s", error)
        hidden = model.initial_hidden(1)
        if state.recent_events:
            self._counters["hidden_rebuilds"] += 1
            for recent in state.recent_events:
                hidden = model.step(hidden, [_model_event(recent)])
        return hidden

    def _load_state(self, user_id: str) -> UserState:
        data = self._store.get(user_id)
        if data is None:
            return UserState()
        try:
            return decode_state(data)
        except StateDecodeError as error:
            # The store contains only what encode_state wrote, so this means a schema
            # change or corruption. The user starts again from an empty state.
            self._counters["state_resets"] += 1
            log.error("state of user %r unreadable, starting from empty: %s", user_id, error)
            return UserState()

    def _reject(
        self,
        key: bytes | None,
        value: bytes | None,
        source: Source,
        reason: str,
        field: str | None,
        message: str,
    ) -> Rejected:
        self._counters["dead_letters"] += 1
        self._counters[f"dead_letters.{reason}"] += 1
        log.debug("dead letter from %s: %s: %s", source, reason, message)
        dead_letter = DeadLetter(
            reason=reason,
            error=message,
            field=field,
            raw=value,
            key=key,
            source=source,
            received_at=self._clock(),
        )
        return Rejected(dead_letter=dead_letter, key=key, value=encode_dead_letter(dead_letter))


def _model_event(recent: RecentEvent) -> ModelEvent:
    return ModelEvent(
        item_id=recent.item_id,
        event_type=recent.event_type,
        price=recent.price,
        category=recent.category,
        seconds_since_previous=recent.gap_s,
    )
