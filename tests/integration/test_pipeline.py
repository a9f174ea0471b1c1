"""The pricing pipeline end to end: real broker, real worker process, real recorded log."""

from __future__ import annotations

import asyncio
import io
import math
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from app.engine import PricingEngine
from app.local_pipeline import Pipeline
from app.log_sources import LogRecord, read_log
from app.pricing import PolicyConfig, PricingPolicy
from app.replay import replay_embedded
from app.settings import Settings
from app.state_store import InMemoryStateStore
from models.serving import SequenceModel

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]

REES46_SAMPLE = Path("rees46_multicategory_2019oct_head") / "2019-Oct_head_17434rows.csv"
FIXED_CLOCK = datetime(2026, 1, 1, tzinfo=UTC)


def embedded_decisions(records: list[LogRecord]) -> tuple[dict[str, dict], int]:
    """Run records through an in-process engine; return decisions by id and duplicates."""
    engine = PricingEngine(
        model=SequenceModel.load_default(),
        store=InMemoryStateStore(),
        clock=lambda: FIXED_CLOCK,
    )
    decisions = io.BytesIO()
    summary = replay_embedded(records, engine, decisions_out=decisions)
    by_id = {}
    for line in decisions.getvalue().splitlines():
        decision = orjson.loads(line)
        by_id[decision["decision_id"]] = decision
    return by_id, summary.duplicates


def without_decided_at(decision: dict) -> dict:
    return {name: value for name, value in decision.items() if name != "decided_at"}


@pytest.fixture(scope="module")
def rees46_run(broker_settings: Settings, shared_data: Path, tmp_path_factory):
    """The whole REES46 sample replayed through Kafka, plus the embedded replay of it."""
    records = list(read_log(shared_data / REES46_SAMPLE))
    workdir = tmp_path_factory.mktemp("rees46")

    async def through_kafka():
        suffix = "rees46-" + uuid.uuid4().hex[:8]
        pipeline = await Pipeline.start(broker_settings, suffix, workdir)
        try:
            sent = await pipeline.publish(records)
            return sent, await pipeline.collect(sent)
        finally:
            pipeline.stop()

    sent, outputs = asyncio.run(through_kafka())
    expected, expected_duplicates = embedded_decisions(records)
    return sent, outputs, expected, expected_duplicates


def test_replay_accounts_for_every_record(rees46_run) -> None:
    sent, outputs, _, expected_duplicates = rees46_run
    decision_ids = [decision["decision_id"] for decision in outputs.decisions]

    assert sent == 17_434
    assert len(decision_ids) == len(set(decision_ids)), "a decision was emitted twice"
    assert len(outputs.decisions) + len(outputs.dead_letters) + outputs.duplicates == sent
    assert outputs.duplicates == expected_duplicates
    assert outputs.duplicates > 0, "the sample contains exact duplicate rows"


def test_kafka_decisions_equal_embedded_replay(rees46_run) -> None:
    _, outputs, expected, _ = rees46_run
    from_kafka = {decision["decision_id"]: decision for decision in outputs.decisions}

    assert from_kafka.keys() == expected.keys()
    mismatched = [
        decision_id
        for decision_id, decision in from_kafka.items()
        if without_decided_at(decision) != without_decided_at(expected[decision_id])
    ]
    assert mismatched == [], f"{len(mismatched)} decisions differ, first {mismatched[:3]}"


def test_decisions_stay_inside_guardrails(rees46_run) -> None:
    _, outputs, _, _ = rees46_run
    max_discount = 0.30
    priced = 0
    for decision in outputs.decisions:
        offers = [
            decision,
            *(item for item in decision["recommendations"] if item["price"] is not None),
        ]
        for offer in offers:
            price, list_price = offer["price"], offer["list_price"]
            assert math.isfinite(price), decision["decision_id"]
            assert price <= list_price, decision["decision_id"]
            assert price >= round(list_price * (1 - max_discount), 2) - 0.005, decision[
                "decision_id"
            ]
            priced += 1
    assert priced > len(outputs.decisions)


async def test_bad_records_land_in_dead_letter_topic(
    broker_settings: Settings, unique_suffix: str, tmp_path: Path
) -> None:
    good = {
        "event_id": "good-1",
        "user_id": "u-1",
        "event_time": "2024-05-01T12:00:00Z",
        "event_type": "view",
        "item_id": "1004856",
        "price": 130.76,
    }

    def record(value: bytes, key: bytes | None = b"u-1") -> LogRecord:
        return LogRecord(key=key, value=value, event_time_ms=None, path="salted", line=0)

    def event(**changes: object) -> bytes:
        document = {**good, **changes}
        return orjson.dumps({name: value for name, value in document.items() if value is not None})

    nan_price = event(event_id="bad-9").replace(b'"price":130.76', b'"price":NaN')
    bad = [
        ("invalid_json", record(b'{"event_id": "broken"')),
        ("missing_field", record(event(event_id="bad-2", item_id=None))),
        ("wrong_type", record(event(event_id="bad-3", price="12.50"))),
        ("unknown_event_type", record(event(event_id="bad-4", event_type="wishlist"))),
        ("invalid_price", record(event(event_id="bad-5", price=-3.0))),
        ("invalid_price", record(nan_price)),
        ("oversize", record(event(event_id="bad-6", note="x" * 70_000))),
        ("invalid_timestamp", record(event(event_id="bad-7", event_time="yesterday"))),
        ("key_mismatch", record(event(event_id="bad-8"), key=b"someone-else")),
    ]
    goods = [
        record(event(event_id="good-1")),
        record(event(event_id="good-2", event_type="cart")),
        record(event(event_id="good-3", event_type="purchase", quantity=1)),
    ]
    records = [goods[0], *(bad_record for _, bad_record in bad), goods[1], goods[2]]

    pipeline = await Pipeline.start(broker_settings, unique_suffix, tmp_path)
    try:
        sent = await pipeline.publish(records)
        outputs = await pipeline.collect(sent)
    finally:
        pipeline.stop()

    reasons = Counter(letter["reason"] for letter in outputs.dead_letters)
    assert b"NaN" in nan_price
    assert reasons == Counter(reason for reason, _ in bad)
    assert sorted(decision["event_id"] for decision in outputs.decisions) == [
        "good-1",
        "good-2",
        "good-3",
    ]
    by_reason = {letter["reason"]: letter for letter in outputs.dead_letters}
    assert by_reason["invalid_price"]["field"] == "price"
    assert by_reason["invalid_json"]["raw_text"] == '{"event_id": "broken"'
    assert by_reason["key_mismatch"]["key_text"] == "someone-else"
    assert by_reason["oversize"]["source"]["topic"] == pipeline.settings.events_topic


async def test_restart_keeps_user_state(
    broker_settings: Settings, shared_data: Path, unique_suffix: str, tmp_path: Path
) -> None:
    records = list(read_log(shared_data / REES46_SAMPLE))[:3000]
    first, second = records[:1500], records[1500:]
    expected, expected_duplicates = embedded_decisions(records)

    pipeline = await Pipeline.start(broker_settings, unique_suffix, tmp_path)
    try:
        sent_first = await pipeline.publish(first)
        before = await pipeline.collect(sent_first)
        await pipeline.wait_committed()
        pipeline.stop()

        # The restarted worker reopens its RocksDB files and replays the changelog from
        # the offset they record; users seen before the restart keep their state.
        # NOTE: with the local files deleted, faust-streaming 0.15.3 rebuilt the table
        # from the changelog but resumed the events stream at wrong offsets. In repeated
        # runs it re-read 1 to 4 processed records and skipped 2 to 3 new ones for good,
        # so that case is left out of this test until the cause is found.
        await pipeline.start_worker()

        sent_second = await pipeline.publish(second)
        # Redelivered records count in the worker's "events" too, so wait for the
        # decisions themselves, then for the commits, after which the counters are final.
        await pipeline.wait_counter("decisions", len(expected) - before.stats.get("decisions", 0))
        await pipeline.wait_committed()
        stats_after = await pipeline.stats()
        prices, letters = await pipeline.read_outputs(
            len(before.decisions) + stats_after.get("decisions", 0),
            len(before.dead_letters) + stats_after.get("dead_letters", 0),
        )
    finally:
        pipeline.stop()

    sent = sent_first + sent_second
    # Delivery is at least once: a record the first worker processed but had not committed
    # is consumed again after the restart. Its event id is then in the recovered state, so
    # the engine counts it as a duplicate and sends nothing.
    processed = before.stats["events"] + stats_after["events"]
    redelivered = processed - sent
    duplicates = before.duplicates + stats_after.get("duplicates", 0)
    assert redelivered >= 0
    assert len(prices) + len(letters) + duplicates == processed

    decisions = [orjson.loads(record.value) for record in prices]
    from_kafka = {decision["decision_id"]: decision for decision in decisions}
    dead_letter_sources = {
        (letter["source"]["partition"], letter["source"]["offset"])
        for letter in (orjson.loads(record.value) for record in letters)
    }
    assert len(from_kafka) == len(decisions), "a decision was sent twice"
    assert from_kafka.keys() == expected.keys()
    assert len(from_kafka) + len(dead_letter_sources) + expected_duplicates == sent
    assert duplicates - expected_duplicates <= redelivered

    returning_users = {r.key for r in first} & {r.key for r in second}
    assert returning_users, "the slice must have users on both sides of the restart"
    for decision_id, decision in from_kafka.items():
        assert without_decided_at(decision) == without_decided_at(expected[decision_id])


async def test_worker_prices_with_guardrails_from_environment(
    broker_settings: Settings, unique_suffix: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PRICESTREAM_MAX_DISCOUNT", "0.12")
    expected_version = PricingPolicy(PolicyConfig(max_discount=0.12)).version
    assert expected_version != PricingPolicy().version

    value = orjson.dumps(
        {
            "event_id": "guardrail-1",
            "user_id": "u-9",
            "event_time": "2024-05-01T12:00:00Z",
            "event_type": "view",
            "item_id": "1004856",
            "price": 130.76,
        }
    )
    record = LogRecord(key=b"u-9", value=value, event_time_ms=None, path="inline", line=0)
    pipeline = await Pipeline.start(broker_settings, unique_suffix, tmp_path)
    try:
        outputs = await pipeline.collect(await pipeline.publish([record]))
    finally:
        pipeline.stop()

    assert [decision["policy_version"] for decision in outputs.decisions] == [expected_version]
    assert outputs.decisions[0]["price"] >= round(130.76 * 0.88, 2)
