"""The worker's /metrics and /ready endpoints, scraped while it processes real records."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.local_pipeline import Pipeline
from app.log_sources import LogRecord
from app.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(pipeline: Pipeline) -> tuple[str, Samples]:
    url = f"http://127.0.0.1:{pipeline.worker.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return content_type, samples


def _wait_ready(pipeline: Pipeline, timeout_s: float = 120.0) -> dict:
    """Poll /ready until it returns 200; return its JSON body."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return pipeline.worker.get_json("/ready")
        except urllib.error.HTTPError as error:
            assert error.code == 503, f"/ready returned {error.code}"
            if time.monotonic() > deadline:
                msg = f"worker not ready within {timeout_s} s"
                raise TimeoutError(msg) from error
            time.sleep(0.2)


def _record(event_id: str, user: str = "u-1", **changes: object) -> LogRecord:
    document = {
        "event_id": event_id,
        "user_id": user,
        "event_time": "2024-05-01T12:00:00Z",
        "event_type": "view",
        "item_id": "1004856",
        "price": 130.76,
        **changes,
    }
    return LogRecord(
        key=user.encode(), value=orjson.dumps(document), event_time_ms=None, path="t", line=0
    )


def _stage_count(samples: Samples, stage: str) -> float:
    return samples[("pricestream_stage_seconds_count", (("stage", stage),))]


async def test_metrics_counters_move_with_records(
    broker_settings: Settings, unique_suffix: str, tmp_path: Path
) -> None:
    records = [
        _record("m-1"),
        _record("m-2", user="u-2", event_type="cart"),
        _record("m-3", user="u-3"),
        _record("m-1"),  # a duplicate of the first
        _record("m-4", price=-1.0),  # a dead letter: invalid price
    ]

    pipeline = await Pipeline.start(broker_settings, unique_suffix, tmp_path)
    try:
        ready = await asyncio.to_thread(_wait_ready, pipeline)
        content_type, before = await asyncio.to_thread(_scrape, pipeline)

        sent = await pipeline.publish(records)
        await pipeline.wait_processed(sent)
        _, after = await asyncio.to_thread(_scrape, pipeline)
    finally:
        pipeline.stop()

    assert ready["ready"] is True
    assert ready["partitions"] == list(range(broker_settings.partitions))
    assert content_type.startswith("text/plain")
    assert before[("pricestream_events_consumed_total", ())] == 0
    assert before[("pricestream_ready", ())] == 1

    assert after[("pricestream_events_consumed_total", ())] == 5
    assert after[("pricestream_decisions_total", ())] == 3
    assert after[("pricestream_duplicates_total", ())] == 1
    assert after[("pricestream_dead_letters_total", (("reason", "invalid_price"),))] == 1
    assert after[("pricestream_event_to_decision_seconds_count", ())] == 3
    assert 0 < after[("pricestream_event_to_decision_seconds_sum", ())] < 60

    for stage in ("model_step", "scoring", "pricing", "state_write", "encode"):
        assert _stage_count(after, stage) - _stage_count(before, stage) == 3, stage
    assert _stage_count(after, "decode") == 5
    assert _stage_count(after, "send") == 5

    model_versions = [labels for name, labels in after if name == "pricestream_model_info"]
    assert len(model_versions) == 1
    lags = {
        labels: value
        for (name, labels), value in after.items()
        if name == "pricestream_consumer_lag"
    }
    assert lags, "no consumer lag reported after records were processed"
    assert set(lags.values()) == {0}
