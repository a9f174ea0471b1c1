"""An aiokafka round trip through the local broker."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.settings import Settings
from app.topics import TopicCreationError, create_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


async def test_roundtrip_returns_sent_record(broker_settings: Settings, unique_suffix: str) -> None:
    topic = f"test.roundtrip.{unique_suffix}"
    created = await create_topics(broker_settings, [topic], partitions=3)
    assert created == [topic]

    producer = AIOKafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
    await producer.start()
    try:
        metadata = await producer.send_and_wait(topic, b'{"n": 1}', key=b"user-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"test-roundtrip-{unique_suffix}",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()

    assert record.key == b"user-1"
    assert record.value == b'{"n": 1}'
    assert record.partition == metadata.partition
    assert record.offset == metadata.offset


async def test_create_topics_twice_creates_nothing_new(
    broker_settings: Settings, unique_suffix: str
) -> None:
    topic = f"test.idempotent.{unique_suffix}"
    assert await create_topics(broker_settings, [topic], partitions=2) == [topic]
    assert await create_topics(broker_settings, [topic], partitions=2) == []


async def test_create_topics_rejected_topic_raises(
    broker_settings: Settings, unique_suffix: str
) -> None:
    topic = f"test.too-many-partitions.{unique_suffix}"
    with pytest.raises(TopicCreationError) as caught:
        await create_topics(broker_settings, [topic], partitions=100_000)
    assert caught.value.topic == topic
    assert caught.value.error_code != 0
    assert topic in str(caught.value)
