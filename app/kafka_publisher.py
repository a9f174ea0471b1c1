"""Publish a recorded log to the events topic with aiokafka, at full or recorded speed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from app.broker_wait import BrokerUnavailableError, wait_for_broker
from app.log_sources import LogRecord

__all__ = ["PublishError", "PublishSummary", "publish_records"]

log = logging.getLogger(__name__)

# Sends in flight before the publisher waits for their acknowledgements.
_MAX_IN_FLIGHT = 2000


class PublishError(RuntimeError):
    """Publishing to Kafka failed; ``sent`` records were acknowledged before the failure."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


@dataclass(frozen=True)
class PublishSummary:
    """Records acknowledged by the broker and the wall time it took."""

    records: int
    wall_s: float


async def publish_records(
    records: Iterable[LogRecord],
    bootstrap_servers: str,
    topic: str,
    *,
    speed: float | None = None,
    on_record: Callable[[], None] | None = None,
    connect_timeout_s: float = 30.0,
) -> PublishSummary:
    """Send each record to ``topic`` with its key and value, in log order.

    With ``speed`` None, records go as fast as the broker takes them. With ``speed`` N,
    the gaps between event times are replayed N times faster, and records without a
    valid event time are sent without waiting. Partitioning is aiokafka's default, which
    hashes the key like the Java client, so each user's records go to one partition.
    Raises PublishError when the broker cannot be reached or rejects a send.
    """
    try:
        await wait_for_broker(bootstrap_servers, connect_timeout_s)
    except BrokerUnavailableError as error:
        raise PublishError(str(error), sent=0) from error
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=int(connect_timeout_s * 1000),
    )
    try:
        await asyncio.wait_for(producer.start(), timeout=connect_timeout_s)
    except (KafkaConnectionError, TimeoutError) as error:
        await producer.stop()
        msg = (
            f"no Kafka broker answered at {bootstrap_servers} within {connect_timeout_s:.0f} s "
            "(start one with: deploy/kafka/broker.sh start)"
        )
        raise PublishError(msg, sent=0) from error

    started = time.perf_counter()
    sent = 0
    pending: list[asyncio.Future[object]] = []
    first_event_ms: int | None = None
    try:
        for record in records:
            if speed is not None and record.event_time_ms is not None:
                if first_event_ms is None:
                    first_event_ms = record.event_time_ms
                due_s = (record.event_time_ms - first_event_ms) / 1000.0 / speed
                delay_s = due_s - (time.perf_counter() - started)
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
            pending.append(await producer.send(topic, record.value, key=record.key))
            if len(pending) >= _MAX_IN_FLIGHT:
                await asyncio.gather(*pending)
                sent += len(pending)
                pending.clear()
            if on_record is not None:
                on_record()
        await asyncio.gather(*pending)
        sent += len(pending)
        pending.clear()
    except KafkaError as error:
        msg = f"publishing to topic {topic!r} failed after {sent} acknowledged records: {error}"
        raise PublishError(msg, sent=sent) from error
    finally:
        await producer.stop()
    wall_s = time.perf_counter() - started
    log.info("published %d records to %s in %.1f s", sent, topic, wall_s)
    return PublishSummary(records=sent, wall_s=wall_s)
