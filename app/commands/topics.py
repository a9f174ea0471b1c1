"""``pricestream topics``: create the service's Kafka topics."""

from __future__ import annotations

import asyncio

import click

from app.settings import Settings, SettingsError
from app.topics import BrokerUnavailableError, TopicCreationError, create_topics, service_topics


@click.group()
def topics() -> None:
    """Manage the service's Kafka topics."""


@topics.command("create")
@click.option(
    "--timeout-s",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.0),
    help="Seconds to wait for the broker to respond.",
)
def create(timeout_s: float) -> None:
    """Create the events, prices and dead-letter topics if they are missing.

    Broker, topic names and partition count come from the PRICESTREAM_* environment
    variables (see the README).
    """
    try:
        settings = Settings.from_env()
        created = asyncio.run(create_topics(settings, timeout_s=timeout_s))
    except (SettingsError, BrokerUnavailableError, TopicCreationError) as error:
        raise click.ClickException(str(error)) from error
    for name in service_topics(settings):
        state = "created" if name in created else "exists"
        click.echo(f"{name}: {state} ({settings.partitions} partitions requested)")
