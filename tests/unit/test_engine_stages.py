from __future__ import annotations

from datetime import UTC, datetime

import orjson

from app.engine import ENGINE_STAGES, Accepted, Duplicate, PricingEngine, Rejected
from app.metrics import WORKER_STAGES
from app.source import Source
from app.state_store import InMemoryStateStore
from tests.unit.fake_model import FakeModel

EVENT = orjson.dumps(
    {
        "event_id": "e1",
        "user_id": "u1",
        "event_time": "2019-10-01T00:00:00Z",
        "event_type": "view",
        "item_id": "i2",
        "price": 20.0,
    }
)


def _engine(observed: list[tuple[str, float]]) -> PricingEngine:
    return PricingEngine(
        FakeModel(),
        InMemoryStateStore(),
        clock=lambda: datetime(2030, 1, 1, tzinfo=UTC),
        observe_stage=lambda stage, seconds: observed.append((stage, seconds)),
    )


def test_engine_stages_accepted_each_once_in_order() -> None:
    observed: list[tuple[str, float]] = []

    outcome = _engine(observed).process(b"u1", EVENT, Source("events", 0, 0))

    assert isinstance(outcome, Accepted)
    assert [stage for stage, _ in observed] == list(ENGINE_STAGES)
    assert all(seconds >= 0 for _, seconds in observed)


def test_engine_stages_rejected_only_decode() -> None:
    observed: list[tuple[str, float]] = []

    outcome = _engine(observed).process(b"u1", b"{not json", Source("events", 0, 0))

    assert isinstance(outcome, Rejected)
    assert [stage for stage, _ in observed] == ["decode"]


def test_engine_stages_duplicate_stops_after_state_read() -> None:
    observed: list[tuple[str, float]] = []
    engine = _engine(observed)
    engine.process(b"u1", EVENT, Source("events", 0, 0))
    observed.clear()

    outcome = engine.process(b"u1", EVENT, Source("events", 0, 1))

    assert isinstance(outcome, Duplicate)
    assert [stage for stage, _ in observed] == ["decode", "state_read"]


def test_engine_stages_without_observer_same_decision() -> None:
    observed: list[tuple[str, float]] = []
    timed = _engine(observed).process(b"u1", EVENT, Source("events", 0, 0))
    plain = PricingEngine(
        FakeModel(), InMemoryStateStore(), clock=lambda: datetime(2030, 1, 1, tzinfo=UTC)
    ).process(b"u1", EVENT, Source("events", 0, 0))

    assert isinstance(timed, Accepted)
    assert isinstance(plain, Accepted)
    assert timed.value == plain.value


def test_worker_stages_cover_engine_stages_and_send() -> None:
    assert WORKER_STAGES == (*ENGINE_STAGES, "send")
