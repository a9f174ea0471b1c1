from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from app.dead_letter import decode_dead_letter
from app.decision import decision_id_for, decode_decision
from app.engine import Accepted, Duplicate, PricingEngine, Rejected
from app.source import Source
from app.state_store import InMemoryStateStore
from app.user_state import decode_state
from tests.unit.fake_model import FakeModel

DECIDED_AT = datetime(2030, 1, 1, tzinfo=UTC)
BASE_TIME = datetime(2019, 10, 1, tzinfo=UTC)


def _clock() -> datetime:
    return DECIDED_AT


def _event(event_id: str = "e1", user_id: str = "u1", **overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "event_id": event_id,
        "user_id": user_id,
        "event_time": (BASE_TIME + timedelta(minutes=int(event_id.lstrip("e") or 0))).isoformat(),
        "event_type": "view",
        "item_id": "i2",
        "price": 20.0,
    }
    document.update(overrides)
    return orjson.dumps(document)


def _engine(model: FakeModel | None = None, store: InMemoryStateStore | None = None) -> Any:
    store = store if store is not None else InMemoryStateStore()
    return PricingEngine(model or FakeModel(), store, clock=_clock)


def _source(offset: int = 0) -> Source:
    return Source("events", 0, offset)


def test_engine_valid_event_accepted() -> None:
    engine = _engine()

    outcome = engine.process(b"u1", _event(), _source())

    assert isinstance(outcome, Accepted)
    decision = outcome.decision
    assert outcome.key == b"u1"
    assert decode_decision(outcome.value) == decision
    assert decision.decision_id == decision_id_for("u1", "e1")
    assert decision.item_id == "i2"
    assert decision.list_price == 20.0
    assert 14.0 <= decision.price <= 20.0
    assert decision.reasons
    assert decision.model_version == "fake-1"
    assert decision.policy_version == engine.policy.version
    assert decision.decided_at == DECIDED_AT
    assert "i2" not in [r.item_id for r in decision.recommendations]
    assert engine.counters["decisions"] == 1


def test_engine_recommendations_priced_from_catalog() -> None:
    outcome = _engine().process(b"u1", _event(), _source())

    assert isinstance(outcome, Accepted)
    by_item = {r.item_id: r for r in outcome.decision.recommendations}
    assert by_item["i4"].price is None
    assert by_item["i4"].reasons == ("unknown_list_price",)
    assert by_item["i3"].list_price == 35.5
    assert by_item["i3"].price is not None
    assert 35.5 * 0.7 <= by_item["i3"].price <= 35.5


def test_engine_recommendation_uses_price_user_saw() -> None:
    engine = _engine()
    engine.process(b"u1", _event("e1", item_id="i3", price=30.0), _source(0))

    outcome = engine.process(b"u1", _event("e2", item_id="i1", price=10.0), _source(1))

    assert isinstance(outcome, Accepted)
    by_item = {r.item_id: r for r in outcome.decision.recommendations}
    assert by_item["i3"].list_price == 30.0


def test_engine_duplicate_event_counted_not_decided() -> None:
    store = InMemoryStateStore()
    engine = _engine(store=store)
    engine.process(b"u1", _event("e1"), _source(0))
    state_before = store.get("u1")

    outcome = engine.process(b"u1", _event("e1"), _source(1))

    assert outcome == Duplicate(event_id="e1", user_id="u1")
    assert store.get("u1") == state_before
    assert engine.counters["duplicates"] == 1
    assert engine.counters["decisions"] == 1


def test_engine_same_event_id_other_user_not_duplicate() -> None:
    engine = _engine()
    engine.process(b"u1", _event("e1", user_id="u1"), _source(0))

    outcome = engine.process(b"u2", _event("e1", user_id="u2"), _source(1))

    assert isinstance(outcome, Accepted)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (b"u1", None, "missing_value"),
        (b"u1", b"{oops", "invalid_json"),
        (None, _event(), "missing_key"),
        (b"u2", _event(), "key_mismatch"),
        (b"u1", _event(price=-1), "invalid_price"),
        (b"u1", _event(event_type="hover"), "unknown_event_type"),
    ],
)
def test_engine_bad_record_rejected(key: bytes | None, value: bytes | None, reason: str) -> None:
    store = InMemoryStateStore()
    engine = _engine(store=store)

    outcome = engine.process(key, value, Source("events", 2, 41))

    assert isinstance(outcome, Rejected)
    dead_letter = decode_dead_letter(outcome.value)
    assert dead_letter == outcome.dead_letter
    assert dead_letter.reason == reason
    assert dead_letter.raw == value
    assert dead_letter.key == key
    assert dead_letter.source == Source("events", 2, 41)
    assert dead_letter.received_at == DECIDED_AT
    assert outcome.key == key
    assert engine.counters[f"dead_letters.{reason}"] == 1
    assert engine.counters["dead_letters"] == 1
    assert len(store) == 0


def test_engine_oversize_record_rejected() -> None:
    engine = PricingEngine(FakeModel(), InMemoryStateStore(), clock=_clock, max_event_bytes=100)

    outcome = engine.process(b"u1", _event(padding="x" * 200), _source())

    assert isinstance(outcome, Rejected)
    assert outcome.dead_letter.reason == "oversize"


def test_engine_state_updated_incrementally() -> None:
    store = InMemoryStateStore()
    model = FakeModel()
    engine = _engine(model, store)

    for number in range(1, 4):
        engine.process(b"u1", _event(f"e{number}"), _source(number))

    state = decode_state(store.get("u1") or b"")
    assert state.counts == {"view": 3}
    assert state.recent_event_ids == ("e1", "e2", "e3")
    assert len(state.recent_events) == 3
    assert state.model_version == "fake-1"
    assert state.hidden is not None
    assert model.steps == 3
    assert "i2" in state.offers


def test_engine_model_version_change_rebuilds_hidden() -> None:
    store = InMemoryStateStore()
    old = _engine(FakeModel("fake-1"), store)
    for number in range(1, 4):
        old.process(b"u1", _event(f"e{number}"), _source(number))
    new_model = FakeModel("fake-2")
    new = _engine(new_model, store)

    new.process(b"u1", _event("e4"), _source(4))

    # Three steps replay the ring buffer, one steps the new event.
    assert new_model.steps == 4
    assert new.counters["hidden_rebuilds"] == 1
    assert decode_state(store.get("u1") or b"").model_version == "fake-2"


def test_engine_rebuilt_hidden_matches_fresh_replay() -> None:
    events = [_event(f"e{number}") for number in range(1, 4)]
    fresh_store = InMemoryStateStore()
    fresh = _engine(FakeModel("fake-2"), fresh_store)
    for offset, value in enumerate(events):
        fresh.process(b"u1", value, _source(offset))
    switched_store = InMemoryStateStore()
    old = _engine(FakeModel("fake-1"), switched_store)
    for offset, value in enumerate(events[:2]):
        old.process(b"u1", value, _source(offset))

    _engine(FakeModel("fake-2"), switched_store).process(b"u1", events[2], _source(2))

    fresh_state = decode_state(fresh_store.get("u1") or b"")
    switched_state = decode_state(switched_store.get("u1") or b"")
    assert switched_state.hidden == fresh_state.hidden


def test_engine_same_version_does_not_rebuild() -> None:
    store = InMemoryStateStore()
    _engine(FakeModel(), store).process(b"u1", _event("e1"), _source(0))
    model = FakeModel()
    engine = _engine(model, store)

    engine.process(b"u1", _event("e2"), _source(1))

    assert model.steps == 1
    assert engine.counters.get("hidden_rebuilds", 0) == 0


def test_engine_corrupt_state_reset_and_counted() -> None:
    store = InMemoryStateStore()
    store.set("u1", b"not a state")
    engine = _engine(store=store)

    outcome = engine.process(b"u1", _event(), _source())

    assert isinstance(outcome, Accepted)
    assert engine.counters["state_resets"] == 1


@pytest.mark.parametrize("slope", [math.nan, math.inf, 5.0, -1e308])
def test_engine_wild_model_output_price_in_bounds(slope: float) -> None:
    engine = _engine(FakeModel(slope=slope))

    outcome = engine.process(b"u1", _event(), _source())

    assert isinstance(outcome, Accepted)
    decision = outcome.decision
    assert 14.0 <= decision.price <= 20.0
    for recommendation in decision.recommendations:
        if recommendation.price is not None and recommendation.list_price is not None:
            assert recommendation.list_price * 0.7 <= recommendation.price
            assert recommendation.price <= recommendation.list_price


def test_engine_same_log_same_decisions() -> None:
    values = [_event(f"e{n}", user_id=f"u{n % 2}", item_id=f"i{n % 5 + 1}") for n in range(1, 9)]
    runs = []
    for _ in range(2):
        engine = _engine()
        runs.append(
            [
                engine.process(orjson.loads(value)["user_id"].encode(), value, _source(offset))
                for offset, value in enumerate(values)
            ]
        )

    assert [o.value for o in runs[0]] == [o.value for o in runs[1]]  # type: ignore[union-attr]
