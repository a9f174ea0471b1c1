"""Read every record of a topic from the beginning, without joining a consumer group."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

__all__ = ["read_topic"]


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord]], bool],
    timeout_s: float,
) -> list[ConsumerRecord]:
    """Collect records of ``topic`` from offset 0 until ``until(records)`` is true.

    Returns what was read when ``timeout_s`` passes first; the caller decides whether
    that is an error. Records of all partitions are returned in arrival order.
    """
    # Without a group id aiokafka assigns every partition of the topic to this consumer,
    # and with no committed offsets "earliest" starts each partition at offset 0.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        if topic not in await consumer.topics():
            msg = f"topic {topic!r} not found on {bootstrap_servers}"
            raise LookupError(msg)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not until(records) and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()
