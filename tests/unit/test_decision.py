from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

from app.decision import (
    DecisionDecodeError,
    PriceDecision,
    Recommendation,
    decision_id_for,
    decode_decision,
    encode_decision,
)


def _decision() -> PriceDecision:
    return PriceDecision(
        decision_id=decision_id_for("u1", "e1"),
        event_id="e1",
        user_id="u1",
        item_id="i1",
        list_price=100.0,
        price=91.5,
        discount=0.085,
        purchase_probability=0.42,
        personalized=True,
        recommendations=(
            Recommendation("i2", 0.9, 20.0, 19.5, True, ("revenue_optimum",)),
            Recommendation("i3", 0.1, None, None, False, ("unknown_list_price",)),
        ),
        reasons=("revenue_optimum",),
        model_version="gru-abc",
        policy_version="price-v1-12345678",
        event_time=datetime(2019, 10, 1, tzinfo=UTC),
        decided_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
    )


def test_decision_id_same_event_same_id() -> None:
    assert decision_id_for("u1", "e1") == decision_id_for("u1", "e1")
    assert decision_id_for("u1", "e1") != decision_id_for("u1", "e2")
    assert decision_id_for("u1", "e1") != decision_id_for("u2", "e1")


def test_encode_decision_round_trip() -> None:
    decision = _decision()

    assert decode_decision(encode_decision(decision)) == decision


def test_encode_decision_times_utc_z() -> None:
    document = orjson.loads(encode_decision(_decision()))

    assert document["event_time"] == "2019-10-01T00:00:00Z"
    assert document["decided_at"] == "2024-05-01T12:00:00.123456Z"
    assert document["personalized"] is True
    assert document["recommendations"][1]["price"] is None


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_encode_decision_non_finite_price_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="'price' must be a finite number"):
        encode_decision(replace(_decision(), price=bad))


def test_decode_decision_garbage_raises() -> None:
    with pytest.raises(DecisionDecodeError):
        decode_decision(b'{"decision_id": "x"}')
