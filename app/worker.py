"""The Faust worker module: ``faust -A app.worker worker`` runs the pricing pipeline."""

from __future__ import annotations

import logging

from app.faust_app import create_app
from app.settings import Settings

log = logging.getLogger(__name__)

settings = Settings.from_env()
app = create_app(settings)


@app.on_startup.connect
async def _log_settings(app: object, **kwargs: object) -> None:
    log.info("pricestream worker starting: %s", settings.describe())
