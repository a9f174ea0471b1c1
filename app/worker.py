"""The Faust worker module: ``faust -A app.worker worker`` runs the pricing pipeline.

Web endpoints on ``PRICESTREAM_WEB_BIND:PRICESTREAM_WEB_PORT``: ``/health`` (liveness),
``/ready`` (readiness, 503 until partitions are assigned and table recovery is done),
``/metrics`` (Prometheus text format) and ``/stats`` (engine counters as JSON).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

from faust.types import TP
from faust.web import Request, Response, View
from mode import Service

from agents.pricing import register_pricing_agent
from app.faust_app import create_app
from app.metrics import CONTENT_TYPE, WorkerMetrics
from app.readiness import Readiness
from app.settings import Settings
from app.topics import create_topics
from models.serving import SequenceModel

log = logging.getLogger(__name__)

settings = Settings.from_env()
app = create_app(settings)

# Faust creates its changelog topics but not the topics agents read and write, and the
# broker does not auto-create them, so the worker makes sure they exist before it starts.
# A loop of its own, because Faust has not started its loop yet at import time.
_setup_loop = asyncio.new_event_loop()
try:
    _setup_loop.run_until_complete(create_topics(settings))
finally:
    _setup_loop.close()

if settings.model_dir is None:
    model = SequenceModel.load_default()
else:
    model = SequenceModel.load(settings.model_dir)

readiness = Readiness(settings.events_topic)


def _engine_counters() -> Mapping[str, int]:
    return pricing.engine.counters


def _consumer_lag() -> dict[tuple[str, int], int]:
    """Return records behind the high watermark per assigned events partition."""
    if not readiness.ready:
        return {}
    consumer = app.consumer
    assignment = consumer.assignment()
    lag = {}
    for partition, offset in list(pricing.processed_offsets.items()):
        tp = TP(settings.events_topic, partition)
        if tp not in assignment:
            continue
        # The high watermark is the offset the next produced record will get. The
        # consumer learns it from fetch responses, so it is None before the first fetch.
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lag[(tp.topic, partition)] = max(highwater - offset - 1, 0)
    return lag


metrics = WorkerMetrics(
    counters=_engine_counters,
    consumer_lag=_consumer_lag,
    ready=lambda: readiness.ready,
    model_version=model.version,
)
pricing = register_pricing_agent(app, settings, model, metrics)


@app.service
class Lifecycle(Service):
    """Log the effective configuration and the model once the worker has started.

    ``faust worker`` imports this module before it configures logging, so lines logged
    at import time are lost. Faust starts app services last, after the first table
    recovery, so these lines follow the first "table recovery done" line.
    """

    async def on_start(self) -> None:
        """Log the start-up lines."""
        log.info("pricestream worker started: %s", settings.describe())
        log.info(
            "model loaded: version %s, hidden size %d, from %s",
            model.version,
            model.hidden_size,
            settings.model_dir or "the default model directory",
        )


@app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode types receivers as (sender, *args, signal)
async def _on_revoked(app: Any, revoked: set[Any], **kwargs: Any) -> None:
    readiness.partitions_revoked()
    log.info("partitions revoked: %d; not ready until the next assignment", len(revoked))


@app.on_partitions_assigned.connect  # type: ignore[arg-type]  # mode types receivers as (sender, *args, signal)
async def _on_assigned(app: Any, assigned: set[Any], **kwargs: Any) -> None:
    readiness.partitions_assigned((tp.topic, tp.partition) for tp in assigned)
    log.info(
        "partitions assigned: %s",
        ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)) or "none",
    )


@app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode types receivers as (sender, *args, signal)
async def _on_recovery_done(app: Any, **kwargs: Any) -> None:
    # Faust sends on_rebalance_complete once table recovery for the new assignment is
    # done, just before it resumes the stream partitions.
    readiness.recovery_done()
    log.info(
        "table recovery done; ready=%s, processing %s partitions %s",
        readiness.ready,
        settings.events_topic,
        sorted(readiness.partitions),
    )


@app.page("/health")
class Health(View):
    """Liveness: the worker process is up and its web server responds."""

    async def get(self, request: Request) -> Response:
        """Return 200 with the loaded model's version."""
        return self.json({"status": "ok", "pid": os.getpid(), "model_version": model.version})


@app.page("/ready")
class Ready(View):
    """Readiness: events partitions assigned and table recovery done."""

    async def get(self, request: Request) -> Response:
        """Return 200 when ready and 503 otherwise, with the state as JSON."""
        status = 200 if readiness.ready else 503
        return self.json({**readiness.describe(), "pid": os.getpid()}, status=status)


@app.page("/metrics")
class Metrics(View):
    """Prometheus metrics in the text exposition format."""

    async def get(self, request: Request) -> Response:
        """Return every metric of this worker."""
        return self.bytes(metrics.render(), content_type=CONTENT_TYPE)


@app.page("/stats")
class Stats(View):
    """Running totals of the engine: events, decisions, dead letters, duplicates."""

    async def get(self, request: Request) -> Response:
        """Return the engine's counters as JSON."""
        return self.json(dict(pricing.engine.counters))
