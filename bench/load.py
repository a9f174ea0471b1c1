"""Send events to the events topic at a fixed rate and time each decision's arrival.

Latency of a decision = the wall-clock time the consumer received it minus the time its
event was handed to the producer, both read with ``time.time()`` in this process. Each
event gets a fresh ``event_id`` (so no event is a duplicate) and its event time is shifted
by whole passes over the log, so each user's events stay in time order when the log
is sent more than once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from app.log_sources import LogRecord

__all__ = ["LoadEvent", "LoadGenerator", "PhaseResult", "events_from_log", "numbered_events"]

log = logging.getLogger(__name__)

# Sends in flight before a flat-out phase waits for acknowledgements.
_MAX_IN_FLIGHT = 5000


@dataclass(frozen=True)
class LoadEvent:
    """A valid event of the log as a JSON document, with its record key."""

    key: bytes
    document: dict[str, object]
    event_time_ms: int


def events_from_log(records: Sequence[LogRecord]) -> list[LoadEvent]:
    """Keep the records that carry a valid event and a key, as LoadEvents, in log order."""
    events = []
    for record in records:
        if record.key is None or record.event_time_ms is None:
            continue
        events.append(LoadEvent(record.key, orjson.loads(record.value), record.event_time_ms))
    return events


def numbered_events(events: Sequence[LoadEvent], prefix: str) -> Iterator[tuple[str, bytes, bytes]]:
    """Yield (event_id, key, value) forever, cycling over ``events``.

    Event ids are ``PREFIX-N``. Pass P over the log shifts event times by P times the
    log's time span plus one second.
    """
    if not events:
        msg = "the log has no valid events to send"
        raise ValueError(msg)
    span_ms = events[-1].event_time_ms - events[0].event_time_ms + 1000
    number = 0
    while True:
        passes, index = divmod(number, len(events))
        event = events[index]
        event_id = f"{prefix}-{number}"
        document = {
            **event.document,
            "event_id": event_id,
            "event_time": event.event_time_ms + passes * span_ms,
        }
        yield event_id, event.key, orjson.dumps(document)
        number += 1


@dataclass
class PhaseResult:
    """What one phase sent and which of its decisions arrived, with their latencies."""

    name: str
    offered_rate: float | None  # events per second; None for flat out
    sent: int = 0
    send_wall_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    first_sent_at: float | None = None
    last_received_at: float | None = None
    drained: bool = False
    stopped_by_backlog: bool = False  # sending stopped early: the worker fell behind
    # Set by the decision reader once ``sent`` is final and every decision has arrived.
    all_received: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def received(self) -> int:
        """Decisions of this phase that reached the consumer."""
        return len(self.latencies_s)


class LoadGenerator:
    """One producer for the events topic and one consumer of the prices topic."""

    def __init__(
        self, bootstrap_servers: str, events_topic: str, prices_topic: str, linger_ms: int
    ) -> None:
        self._events_topic = events_topic
        self._prices_topic = prices_topic
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks=1, linger_ms=linger_ms
        )
        self._consumer = AIOKafkaConsumer(
            prices_topic,
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=5,
        )
        self._sent_at: dict[str, tuple[PhaseResult, float]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.unmatched = 0

    async def start(self) -> None:
        """Connect the producer and start reading decisions in the background."""
        await self._producer.start()
        await self._consumer.start()
        self._reader = asyncio.create_task(self._read_decisions())

    async def stop(self) -> None:
        """Stop reading and disconnect."""
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                pass
        await self._consumer.stop()
        await self._producer.stop()

    async def run_phase(
        self,
        result: PhaseResult,
        events: Iterator[tuple[str, bytes, bytes]],
        count: int,
        drain_timeout_s: float,
        max_backlog: int | None,
    ) -> PhaseResult:
        """Send ``count`` events at ``result.offered_rate`` (flat out when None).

        Sending stops early when more than ``max_backlog`` sent events have no decision
        yet, which bounds the run time when the worker cannot keep up. Then the phase
        waits up to ``drain_timeout_s`` for the decisions; ``result.drained`` tells
        whether all arrived.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        result.first_sent_at = time.time()
        pending = []
        sent = 0
        for number in range(count):
            if max_backlog is not None and sent - result.received > max_backlog:
                result.stopped_by_backlog = True
                log.warning(
                    "phase %s: stopped after %d of %d events, %d without a decision",
                    result.name,
                    sent,
                    count,
                    sent - result.received,
                )
                break
            if result.offered_rate is not None:
                # Pace by schedule, not by gaps, so a late send does not slow the rest.
                delay_s = started + number / result.offered_rate - loop.time()
                if delay_s > 0:
                    await asyncio.sleep(delay_s)
            event_id, key, value = next(events)
            sent_at = time.time()
            self._sent_at[event_id] = (result, sent_at)
            pending.append(
                await self._producer.send(
                    self._events_topic, value, key=key, timestamp_ms=int(sent_at * 1000)
                )
            )
            sent += 1
            if len(pending) >= _MAX_IN_FLIGHT:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        result.sent = sent
        result.send_wall_s = loop.time() - started

        if result.received >= result.sent:
            result.all_received.set()
        try:
            await asyncio.wait_for(result.all_received.wait(), timeout=drain_timeout_s)
        except TimeoutError:
            pass
        result.drained = result.received >= result.sent
        if not result.drained:
            log.warning(
                "phase %s: %d of %d decisions arrived within %.0f s",
                result.name,
                result.received,
                result.sent,
                drain_timeout_s,
            )
        return result

    async def _read_decisions(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            received_at = time.time()
            for batch in batches.values():
                for record in batch:
                    event_id = orjson.loads(record.value)["event_id"]
                    entry = self._sent_at.pop(event_id, None)
                    if entry is None:
                        self.unmatched += 1
                        continue
                    phase, sent_at = entry
                    phase.latencies_s.append(received_at - sent_at)
                    phase.last_received_at = received_at
                    if phase.sent and phase.received >= phase.sent:
                        phase.all_received.set()
