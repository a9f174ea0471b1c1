"""``pricestream worker``: run a Faust worker of the pricing pipeline."""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("faust_args", nargs=-1, type=click.UNPROCESSED)
def worker(faust_args: tuple[str, ...]) -> None:
    """Start a pricing worker; extra arguments go to `faust worker`.

    Equivalent to `faust -A app.worker worker`. Configuration comes from the
    PRICESTREAM_* environment variables (see the README).
    """
    import sys

    from app.worker import app

    # Faust's CLI reads sys.argv itself.
    sys.argv = [sys.argv[0], "worker", *faust_args]
    app.main()
