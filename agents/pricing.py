"""The pricing agent: each record of `events` becomes one decision, dead letter or duplicate."""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents.table_store import TableStateStore
from app.engine import Accepted, PricingEngine, Rejected, Source
from app.settings import Settings
from models.serving import SequenceModel

__all__ = ["register_pricing_agent"]

log = logging.getLogger(__name__)

USER_TABLE = "users"


def register_pricing_agent(
    app: faust.App, settings: Settings, model: SequenceModel
) -> PricingEngine:
    """Attach the user table and the pricing agent to ``app``; return the engine it drives."""
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
    engine = PricingEngine(model=model, store=TableStateStore(users))

    # concurrency=1 (the default) on purpose: with more, faust-streaming can commit the
    # offset of a record whose processing is still in flight on another coroutine.
    @app.agent(events, concurrency=1)
    async def price_events(stream: faust.StreamT[Any]) -> None:
        async for event in stream.events():
            message = event.message
            source = Source(message.topic, message.partition, message.offset)
            outcome = engine.process(message.key, message.value, source)

            if isinstance(outcome, Accepted):
                await prices.send(key=outcome.key, value=outcome.value)
            elif isinstance(outcome, Rejected):
                await dead_letters.send(key=outcome.key, value=outcome.value)

    return engine
