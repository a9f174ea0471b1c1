"""A real Faust worker process consumes a record from one topic and produces to another."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.settings import Settings
from app.topics import create_topics
from tests.conftest import REPO

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(180)]


async def test_worker_relays_one_record(
    broker_settings: Settings, unique_suffix: str, tmp_path
) -> None:
    source, sink = f"test.relay.in.{unique_suffix}", f"test.relay.out.{unique_suffix}"
    await create_topics(broker_settings, [source, sink], partitions=2)

    env = {
        **os.environ,
        "RELAY_APP_ID": f"test-relay-{unique_suffix}",
        "RELAY_SOURCE_TOPIC": source,
        "RELAY_SINK_TOPIC": sink,
        "PRICESTREAM_DATA_DIR": str(tmp_path / "worker"),
        "PRICESTREAM_WEB_PORT": "6199",
        "PRICESTREAM_PARTITIONS": "2",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faust",
                "-A",
                "tests.integration.relay_app",
                "worker",
                "--loglevel",
                "info",
                "--without-web",
            ],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        producer = AIOKafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(source, b"hello faust", key=b"user-7")
        finally:
            await producer.stop()

        consumer = AIOKafkaConsumer(
            sink,
            bootstrap_servers=broker_settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=f"test-relay-reader-{unique_suffix}",
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=120)
        finally:
            await consumer.stop()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    assert record.key == b"user-7", log_path.read_text(errors="replace")[-3000:]
    assert record.value == b"HELLO FAUST"


async def test_pricing_worker_creates_its_topics(
    broker_settings: Settings, unique_suffix: str, tmp_path
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    from app.local_pipeline import free_port
    from app.worker_process import WorkerProcess

    topics = {
        "PRICESTREAM_EVENTS_TOPIC": f"test.{unique_suffix}.events",
        "PRICESTREAM_PRICES_TOPIC": f"test.{unique_suffix}.prices",
        "PRICESTREAM_DEADLETTER_TOPIC": f"test.{unique_suffix}.deadletter",
    }
    env = {
        **topics,
        "PRICESTREAM_APP_ID": f"test-topics-{unique_suffix}",
        "PRICESTREAM_PARTITIONS": "3",
        "PRICESTREAM_DATA_DIR": str(tmp_path / "state"),
    }
    worker = WorkerProcess(env, tmp_path / "worker.log", web_port=free_port())
    worker.start()
    try:
        await asyncio.to_thread(worker.wait_ready, 120.0)
    finally:
        worker.stop()

    admin = AIOKafkaAdminClient(bootstrap_servers=broker_settings.bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics.values()))
    finally:
        await admin.close()
    partitions = {topic["topic"]: len(topic["partitions"]) for topic in described}
    assert partitions == {name: 3 for name in topics.values()}
