"""The pricing agent: each record of `events` becomes one decision, dead letter or duplicate."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import faust

from agents.table_store import TableStateStore
from app.engine import Accepted, PricingEngine, Rejected, Source
from app.metrics import WorkerMetrics
from app.pricing import PricingPolicy
from app.settings import Settings
from models.serving import SequenceModel

__all__ = ["PricingAgent", "register_pricing_agent"]

log = logging.getLogger(__name__)

USER_TABLE = "users"


@dataclass
class PricingAgent:
    """The engine an agent drives and how far it got in each events partition."""

    engine: PricingEngine
    processed_offsets: dict[int, int] = field(default_factory=dict)
    """Events partition -> offset of the last record processed by this worker."""


def register_pricing_agent(
    app: faust.App,
    settings: Settings,
    model: SequenceModel,
    metrics: WorkerMetrics | None = None,
) -> PricingAgent:
    """Attach the user table and the pricing agent to ``app``; return what the agent drives.

    With ``metrics``, each record's stage timings and its event-to-decision latency are
    recorded there.
    """
    # Raw bytes in and out: the engine validates input itself, because Faust's own
    # deserialization skips a record it cannot decode instead of reporting it.
    events = app.topic(
        settings.events_topic,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )
    prices = app.topic(settings.prices_topic, key_serializer="raw", value_serializer="raw")
    dead_letters = app.topic(
        settings.deadletter_topic, key_serializer="raw", value_serializer="raw"
    )
    # Keys and values are raw bytes, so stored keys are the same before and after a
    # recovery from the changelog, in every store. Faust picks a table's serializer from
    # key_type/value_type (bytes -> raw); it ignores the app's defaults and uses JSON.
    users = app.Table(
        USER_TABLE,
        default=None,
        partitions=settings.partitions,
        key_type=bytes,
        value_type=bytes,
    )
    engine = PricingEngine(
        model=model,
        store=TableStateStore(users),
        policy=PricingPolicy(settings.policy_config()),
        observe_stage=None if metrics is None else metrics.observe_stage,
    )
    agent = PricingAgent(engine)
    processed_offsets = agent.processed_offsets

    # concurrency=1 (the default) on purpose: with more, faust-streaming can commit the
    # offset of a record whose processing is still in flight on another coroutine.
    #
    # NOTE: delivery is at-least-once without Kafka transactions. If the worker dies after
    # the user's state write reached the changelog but before the decision was sent, the
    # redelivered event finds its id in the recovered state, counts as a duplicate, and
    # its decision is never sent. Exactly-once needs Faust's processing_guarantee
    # "exactly_once" (transactional producer), which this worker does not enable.
    @app.agent(events, concurrency=1)
    async def price_events(stream: faust.StreamT[Any]) -> None:
        async for event in stream.events():
            message = event.message
            source = Source(message.topic, message.partition, message.offset)
            outcome = engine.process(message.key, message.value, source)

            sending_started = time.perf_counter()
            if isinstance(outcome, Accepted):
                await prices.send(key=outcome.key, value=outcome.value)
            elif isinstance(outcome, Rejected):
                await dead_letters.send(key=outcome.key, value=outcome.value)
            processed_offsets[message.partition] = message.offset

            if metrics is not None:
                metrics.observe_stage("send", time.perf_counter() - sending_started)
                if isinstance(outcome, Accepted):
                    # message.timestamp is the record's Kafka timestamp in epoch seconds:
                    # the producer's wall clock under the topic default CreateTime.
                    metrics.observe_event_to_decision(time.time() - message.timestamp)

    return agent
