from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import orjson
import pytest
import torch

from app.dead_letter import decode_dead_letter
from app.decision import decode_decision
from app.engine import PricingEngine
from app.log_sources import read_log
from app.replay import replay_embedded
from app.state_store import InMemoryStateStore
from models.serving import SequenceModel

REES46_SAMPLE = Path("rees46_multicategory_2019oct_head", "2019-Oct_head_17434rows.csv")


@pytest.fixture(scope="module")
def model() -> Iterator[SequenceModel]:
    torch.set_num_threads(1)
    yield SequenceModel.load_default(num_threads=1)


def _engine(model: SequenceModel) -> PricingEngine:
    return PricingEngine(
        model, InMemoryStateStore(), clock=lambda: datetime(2030, 1, 1, tzinfo=UTC)
    )


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))[1:]


@pytest.mark.slow
def test_replay_rees46_sample_every_record_accounted(
    shared_data: Path, model: SequenceModel
) -> None:
    path = shared_data / REES46_SAMPLE
    rows = _rows(path)
    seen: set[tuple[str, ...]] = set()
    expected_duplicates = 0
    for row in rows:
        expected_duplicates += tuple(row) in seen
        seen.add(tuple(row))
    expected_bad_prices = sum(float(row[6]) <= 0 for row in rows)
    decisions_out, dead_letters_out = io.BytesIO(), io.BytesIO()

    summary = replay_embedded(
        read_log(path),
        _engine(model),
        decisions_out=decisions_out,
        dead_letters_out=dead_letters_out,
    )

    assert summary.records == len(rows)
    assert summary.decisions + summary.dead_letter_count + summary.duplicates == len(rows)
    assert summary.accounted
    assert summary.duplicates == expected_duplicates
    assert summary.dead_letters == Counter({"invalid_price": expected_bad_prices})
    decisions = [decode_decision(line) for line in decisions_out.getvalue().splitlines()]
    dead_letters = [decode_dead_letter(line) for line in dead_letters_out.getvalue().splitlines()]
    assert len(decisions) == summary.decisions
    assert len(dead_letters) == summary.dead_letter_count
    assert len({decision.decision_id for decision in decisions}) == len(decisions)
    for decision in decisions:
        assert decision.list_price * 0.7 <= decision.price <= decision.list_price
    for dead_letter in dead_letters:
        assert dead_letter.source.topic == str(path)
        assert dead_letter.raw is not None
        assert orjson.loads(dead_letter.raw)["price"] <= 0


def test_replay_same_log_same_decisions(shared_data: Path, model: SequenceModel) -> None:
    path = shared_data / REES46_SAMPLE
    outputs = []
    for _ in range(2):
        out = io.BytesIO()
        replay_embedded(islice(read_log(path), 600), _engine(model), decisions_out=out)
        outputs.append(out.getvalue())

    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") > 500


def test_replay_salted_jsonl_each_bad_kind_dead_lettered(
    tmp_path: Path, model: SequenceModel
) -> None:
    item = next(entry for entry in model.catalog() if entry.reference_price)
    good = {
        "event_id": "g1",
        "user_id": "u1",
        "event_time": "2019-10-01T00:00:00Z",
        "event_type": "view",
        "item_id": item.item_id,
        "price": 12.5,
    }
    salted = {
        "invalid_json": b"{not json",
        "missing_field": orjson.dumps({**good, "event_id": "b1", "item_id": None}),
        "wrong_type": orjson.dumps({**good, "event_id": "b2", "price": "12"}),
        "unknown_event_type": orjson.dumps({**good, "event_id": "b3", "event_type": "hover"}),
        "invalid_price": orjson.dumps({**good, "event_id": "b4", "price": -1}),
        "invalid_timestamp": orjson.dumps({**good, "event_id": "b5", "event_time": "noon"}),
        "oversize": orjson.dumps({**good, "event_id": "b6", "pad": "x" * 70_000}),
    }
    lines = [orjson.dumps(good), *salted.values(), orjson.dumps({**good, "event_id": "g2"})]
    log = tmp_path / "salted.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    dead_letters_out = io.BytesIO()

    summary = replay_embedded(read_log(log), _engine(model), dead_letters_out=dead_letters_out)

    assert summary.decisions == 2
    assert summary.dead_letters == Counter(dict.fromkeys(salted, 1))
    by_reason = {
        dead_letter.reason: dead_letter
        for dead_letter in map(decode_dead_letter, dead_letters_out.getvalue().splitlines())
    }
    for reason, raw in salted.items():
        assert by_reason[reason].raw == raw
