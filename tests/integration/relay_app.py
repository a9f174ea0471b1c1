"""A one-agent Faust app for the worker smoke test: copies each record, upper-cased.

Topic names and the app id come from RELAY_* variables so each test run is isolated.
"""

from __future__ import annotations

import os

from app.faust_app import create_app
from app.settings import Settings

settings = Settings.from_env()
app = create_app(settings, app_id=os.environ["RELAY_APP_ID"])
source = app.topic(os.environ["RELAY_SOURCE_TOPIC"])
sink = app.topic(os.environ["RELAY_SINK_TOPIC"])


@app.agent(source)
async def relay(stream):  # type: ignore[no-untyped-def]
    """Send each record's value, upper-cased, to the sink topic under the same key."""
    async for event in stream.events():
        await sink.send(key=event.key, value=event.value.upper())
