from __future__ import annotations

import itertools

import orjson
import pytest

from app.events import decode_event
from app.log_sources import LogRecord
from bench.load import events_from_log, numbered_events


def _record(user: str, event_id: str, event_time_ms: int | None) -> LogRecord:
    document = {
        "event_id": event_id,
        "user_id": user,
        "event_time": event_time_ms,
        "event_type": "view",
        "item_id": "i1",
        "price": 10.0,
    }
    return LogRecord(
        key=user.encode(),
        value=orjson.dumps(document),
        event_time_ms=event_time_ms,
        path="log.jsonl",
        line=1,
    )


def test_events_from_log_skips_invalid_records() -> None:
    records = [
        _record("u1", "a", 1_000),
        _record("u1", "b", None),
        LogRecord(key=None, value=b"{}", event_time_ms=5, path="log", line=3),
    ]

    events = events_from_log(records)

    assert [event.document["event_id"] for event in events] == ["a"]


def test_numbered_events_unique_ids_times_shifted_per_pass() -> None:
    start_ms = 1_569_888_000_000  # 2019-10-01T00:00:00Z
    events = events_from_log([_record("u1", "a", start_ms), _record("u2", "b", start_ms + 2_000)])

    produced = list(itertools.islice(numbered_events(events, "run"), 5))

    assert [event_id for event_id, _, _ in produced] == [f"run-{n}" for n in range(5)]
    assert [key for _, key, _ in produced] == [b"u1", b"u2", b"u1", b"u2", b"u1"]
    decoded = [decode_event(value) for _, _, value in produced]
    assert [event.event_id for event in decoded] == [f"run-{n}" for n in range(5)]
    # The span is 2 s plus 1 s, so pass 1 starts 3 s after pass 0.
    offsets_ms = [event.event_time_ms - start_ms for event in decoded]
    assert offsets_ms == [0, 2_000, 3_000, 5_000, 6_000]


def test_numbered_events_empty_log_raises() -> None:
    with pytest.raises(ValueError, match="no valid events"):
        next(numbered_events([], "run"))
