"""``pricestream worker``: run a Faust worker of the pricing pipeline."""

from __future__ import annotations

import asyncio
import sys

import click

from app.settings import Settings, SettingsError
from app.topics import BrokerUnavailableError, TopicCreationError, create_topics


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("faust_args", nargs=-1, type=click.UNPROCESSED)
def worker(faust_args: tuple[str, ...]) -> None:
    """Start a pricing worker; extra arguments go to `faust worker`.

    Equivalent to `faust -A app.worker worker`, but checks the PRICESTREAM_* settings
    and creates the topics first, so a wrong value or a missing broker ends with one
    error line. Configuration comes from the PRICESTREAM_* environment variables (see
    the README).
    """
    try:
        settings = Settings.from_env()
        asyncio.run(create_topics(settings))
    except (SettingsError, BrokerUnavailableError, TopicCreationError) as error:
        raise click.ClickException(str(error)) from error

    from app.worker import app

    # Faust's CLI reads sys.argv itself.
    sys.argv = [sys.argv[0], "worker", *faust_args]
    app.main()
