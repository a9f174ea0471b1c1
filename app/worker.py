"""The Faust worker module: ``faust -A app.worker worker`` runs the pricing pipeline."""

from __future__ import annotations

import logging
import os
from typing import Any

from faust.web import Request, Response, View

from agents.pricing import register_pricing_agent
from app.faust_app import create_app
from app.settings import Settings
from models.serving import SequenceModel

log = logging.getLogger(__name__)

settings = Settings.from_env()
app = create_app(settings)

if settings.model_dir is None:
    model = SequenceModel.load_default()
else:
    model = SequenceModel.load(settings.model_dir)

engine = register_pricing_agent(app, settings, model)


log.info("pricestream worker configured: %s", settings.describe())
log.info("model loaded: version %s, hidden size %d", model.version, model.hidden_size)


@app.on_partitions_assigned.connect
async def _log_assignment(app: Any, assigned: set[Any], **kwargs: Any) -> None:
    log.info(
        "partitions assigned: %s",
        ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned)),
    )


@app.task
async def _log_recovery_done() -> None:
    # Faust starts app tasks only after table recovery has completed.
    log.info("table recovery done; processing %s", settings.events_topic)


@app.page("/health")
class Health(View):
    """Liveness: the worker process is up and its web server answers."""

    async def get(self, request: Request) -> Response:
        """Return 200 with the loaded model's version."""
        return self.json({"status": "ok", "pid": os.getpid(), "model_version": model.version})


@app.page("/stats")
class Stats(View):
    """Running totals of the engine: events, decisions, dead letters, duplicates."""

    async def get(self, request: Request) -> Response:
        """Return the engine's counters as JSON."""
        return self.json(dict(engine.counters))
