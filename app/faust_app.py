"""The Faust application object, configured from Settings."""

from __future__ import annotations

import faust

from app.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings, *, app_id: str | None = None) -> faust.App:
    """Create a Faust app wired to the broker, store and data folder in ``settings``.

    Agents and tables are attached by the modules in agents/; this only sets the
    knobs every worker shares.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        app_id or settings.app_id,
        broker=settings.broker,
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        topic_allow_declare=True,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        web_port=settings.web_port,
        web_bind=settings.web_bind,
        autodiscover=False,
        # The pipeline sends JSON bytes it encoded itself with orjson, and decodes
        # input itself so that a bad record becomes a dead letter instead of a skip.
        key_serializer="raw",
        value_serializer="raw",
    )
