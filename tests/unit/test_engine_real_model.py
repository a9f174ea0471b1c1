"""The engine with the committed default model, not the fake one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import torch

from app.engine import Accepted, PricingEngine
from app.source import Source
from app.state_store import InMemoryStateStore
from app.user_state import decode_state
from models.serving import SequenceModel


@pytest.fixture(scope="module")
def model() -> Iterator[SequenceModel]:
    torch.set_num_threads(1)
    yield SequenceModel.load_default(num_threads=1)


def _values(model: SequenceModel, count: int) -> list[bytes]:
    items = [entry for entry in model.catalog() if entry.reference_price][:count]
    start = datetime(2019, 10, 1, tzinfo=UTC)
    return [
        orjson.dumps(
            {
                "event_id": f"e{number}",
                "user_id": "u1",
                "event_time": (start + timedelta(seconds=30 * number)).isoformat(),
                "event_type": "view",
                "item_id": entry.item_id,
                "category": entry.category,
                "price": entry.reference_price,
            }
        )
        for number, entry in enumerate(items)
    ]


def test_real_model_decisions_inside_bounds(model: SequenceModel) -> None:
    engine = PricingEngine(model, InMemoryStateStore())

    outcomes = [
        engine.process(b"u1", value, Source("t", 0, n)) for n, value in enumerate(_values(model, 5))
    ]

    for outcome in outcomes:
        assert isinstance(outcome, Accepted)
        decision = outcome.decision
        assert decision.model_version == model.version
        assert decision.list_price * 0.7 <= decision.price <= decision.list_price
        assert len(decision.recommendations) == 10
        for recommendation in decision.recommendations:
            if recommendation.price is not None and recommendation.list_price is not None:
                assert recommendation.list_price * 0.7 <= recommendation.price
                assert recommendation.price <= recommendation.list_price


def test_real_model_version_change_rebuild_matches(model: SequenceModel) -> None:
    values = _values(model, 4)
    fresh_store = InMemoryStateStore()
    fresh = PricingEngine(model, fresh_store)
    for offset, value in enumerate(values):
        fresh.process(b"u1", value, Source("t", 0, offset))
    old_store = InMemoryStateStore()
    old = PricingEngine(model, old_store)
    for offset, value in enumerate(values[:3]):
        old.process(b"u1", value, Source("t", 0, offset))
    stored = decode_state(old_store.get("u1") or b"")
    # Pretend the stored hidden state came from an older model.
    old_store.set("u1", old_store.get("u1").replace(stored.model_version.encode(), b"gru-old"))  # type: ignore[union-attr]

    rebuilt = PricingEngine(model, old_store)
    rebuilt.process(b"u1", values[3], Source("t", 0, 3))

    assert rebuilt.counters["hidden_rebuilds"] == 1
    assert (
        decode_state(old_store.get("u1") or b"").hidden
        == decode_state(fresh_store.get("u1") or b"").hidden
    )
