"""``pricestream replay``: replay recorded event logs through Kafka or in-process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import click

from app.log_sources import LogLayoutError, LogRecord, detect_layout, read_logs
from app.settings import Settings, SettingsError


@click.command()
@click.argument(
    "logs",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--to",
    "target",
    type=click.Choice(["kafka", "embedded"]),
    default="embedded",
    show_default=True,
    help="Publish to the events topic, or run the pricing engine in this process.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="With --to kafka: replay event-time gaps N times faster. Default: as fast as possible.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --to embedded: write decisions here as JSONL.",
)
@click.option(
    "--dead-letters",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --to embedded: write dead letters here as JSONL.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many records over all logs.",
)
def replay(
    logs: tuple[Path, ...],
    target: str,
    speed: float | None,
    out: Path | None,
    dead_letters: Path | None,
    limit: int | None,
) -> None:
    """Replay LOG files (our JSONL events or REES46 CSV, plain or .gz).

    Broker, topic and model directory come from the PRICESTREAM_* environment variables
    (see the README). Every record ends as a decision, a dead letter or a duplicate;
    with --to embedded the summary shows how many of each.
    """
    try:
        settings = Settings.from_env()
        for path in logs:
            detect_layout(path)
    except (SettingsError, LogLayoutError) as error:
        raise click.ClickException(str(error)) from error
    if target == "kafka" and (out is not None or dead_letters is not None):
        msg = "--out and --dead-letters apply to --to embedded; read the prices topic instead"
        raise click.UsageError(msg)
    if target == "embedded" and speed is not None:
        msg = "--speed applies to --to kafka only"
        raise click.UsageError(msg)

    records = islice(read_logs(logs), limit)
    if target == "kafka":
        _replay_to_kafka(records, settings, speed, len(logs))
    else:
        _replay_embedded(records, settings, out, dead_letters, len(logs))


def _replay_to_kafka(
    records: Iterator[LogRecord], settings: Settings, speed: float | None, log_count: int
) -> None:
    from app.kafka_publisher import PublishError, publish_records

    with _progress() as advance:
        try:
            summary = asyncio.run(
                publish_records(
                    records,
                    settings.bootstrap_servers,
                    settings.events_topic,
                    speed=speed,
                    on_record=advance,
                )
            )
        except PublishError as error:
            raise click.ClickException(str(error)) from error
        except LogLayoutError as error:
            raise click.ClickException(str(error)) from error
    pace = "as fast as possible" if speed is None else f"at {speed:g}x recorded speed"
    click.echo(
        f"published {summary.records} records from {log_count} log(s) to "
        f"{settings.events_topic} {pace} in {summary.wall_s:.1f} s"
    )
    click.echo(
        "decisions, dead letters and duplicates are counted by the worker: read the "
        f"{settings.prices_topic} and {settings.deadletter_topic} topics"
    )


def _replay_embedded(
    records: Iterator[LogRecord],
    settings: Settings,
    out: Path | None,
    dead_letters: Path | None,
    log_count: int,
) -> None:
    from app.engine import PricingEngine
    from app.pricing import PricingPolicy
    from app.replay import replay_embedded
    from app.state_store import InMemoryStateStore
    from models.serving import ModelArtifactError, ModelSchemaError, SequenceModel

    try:
        if settings.model_dir is not None:
            model = SequenceModel.load(settings.model_dir)
        else:
            model = SequenceModel.load_default()
    except (ModelArtifactError, ModelSchemaError, OSError) as error:
        msg = f"cannot load the model: {error}"
        raise click.ClickException(msg) from error
    engine = PricingEngine(
        model, InMemoryStateStore(), policy=PricingPolicy(settings.policy_config())
    )

    started = time.perf_counter()
    with (
        _open_output(out) as decisions_out,
        _open_output(dead_letters) as dead_letters_out,
        _progress() as advance,
    ):
        try:
            summary = replay_embedded(
                records,
                engine,
                decisions_out=decisions_out,
                dead_letters_out=dead_letters_out,
                on_record=advance,
            )
        except LogLayoutError as error:
            raise click.ClickException(str(error)) from error
    wall_s = time.perf_counter() - started

    rate = summary.records / summary.wall_s if summary.wall_s > 0 else 0.0
    click.echo(
        f"replayed {summary.records} records from {log_count} log(s) in-process in "
        f"{wall_s:.1f} s ({rate:.0f} records/s, model {model.version}, "
        f"policy {engine.policy.version})"
    )
    click.echo(f"  decisions:    {summary.decisions}")
    click.echo(f"  duplicates:   {summary.duplicates}")
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.dead_letters.items()))
    click.echo(
        f"  dead letters: {summary.dead_letter_count}" + (f" ({reasons})" if reasons else "")
    )
    check = "yes" if summary.accounted else "NO"
    click.echo(f"  every record accounted for exactly once: {check}")
    if out is not None:
        click.echo(f"decisions written to {out}")
    if dead_letters is not None:
        click.echo(f"dead letters written to {dead_letters}")
    if not summary.accounted:
        msg = "decisions + dead letters + duplicates != records read"
        raise click.ClickException(msg)


@contextlib.contextmanager
def _open_output(path: Path | None) -> Iterator[BinaryIO | None]:
    if path is None:
        yield None
        return
    try:
        stream = path.open("wb")
    except OSError as error:
        msg = f"cannot write {path}: {error.strerror or error}"
        raise click.ClickException(msg) from error
    with stream:
        yield stream


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[], None]]:
    from tqdm import tqdm

    # tqdm hides itself when stderr is not a terminal (disable=None).
    with tqdm(unit=" records", disable=None, mininterval=0.5) as bar:
        yield lambda: bar.update(1)
