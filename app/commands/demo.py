"""``pricestream demo``: replay a real event log through Kafka and show the decisions."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from app.local_pipeline import Outputs, Pipeline
from app.log_sources import LogLayoutError, read_log
from app.settings import Settings, SettingsError
from app.topics import BrokerUnavailableError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOG = (
    REPO.parent
    / "shared"
    / "data"
    / "rees46_multicategory_2019oct_head"
    / "2019-Oct_head_17434rows.csv"
)
DATASET_HINT = (
    "The demo replays the public REES46 'eCommerce behavior data from multi category "
    "store' log (Kaggle dataset mkechinov/ecommerce-behavior-data-from-multi-category-store, "
    "file 2019-Oct.csv; credit REES46). Download it and pass its path with --log "
    "(add --limit 20000 to replay only the first events), or any JSONL log of events."
)


@click.command()
@click.option(
    "--log",
    "log_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_LOG,
    show_default=True,
    envvar="PRICESTREAM_DEMO_LOG",
    show_envvar=True,
    help="Event log to replay: REES46 CSV or JSONL, plain or .gz.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Replay only the first N records of the log.",
)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="How many decisions to print.",
)
@click.option(
    "--timeout-s",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Give up when the worker makes no progress for this many seconds.",
)
def demo(log_path: Path, limit: int | None, show: int, timeout_s: float) -> None:
    """Run the pipeline once on a recorded log, through the local Kafka broker.

    Creates topics of its own (demo.<run>.events, .prices, .deadletter), starts a
    pricing worker, publishes the log, waits until every record is processed, reads
    the decisions back from Kafka, prints a summary, and stops the worker. The broker
    comes from PRICESTREAM_BROKER (start one with deploy/kafka/broker.sh start).
    """
    if not log_path.is_file():
        msg = f"demo log not found: {log_path}\n{DATASET_HINT}"
        raise click.ClickException(msg)
    try:
        settings = Settings.from_env()
        read_log(log_path)
    except (SettingsError, LogLayoutError) as error:
        raise click.ClickException(str(error)) from error

    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    workdir = Path("var") / "demo" / run_id
    try:
        outputs, sent, wall_s, pipeline = asyncio.run(
            _run(settings, log_path, limit, run_id, workdir, timeout_s)
        )
    except (BrokerUnavailableError, TimeoutError, RuntimeError) as error:
        worker_log = workdir / "worker.log"
        msg = f"{error}\nworker log: {worker_log}" if worker_log.exists() else str(error)
        raise click.ClickException(msg) from error

    _print_summary(outputs, sent, wall_s, pipeline)
    # Personalized decisions first: they show what the model and the policy do.
    shown = sorted(outputs.decisions, key=lambda decision: not decision["personalized"])
    _print_decisions(shown[:show])
    accounted = len(outputs.decisions) + len(outputs.dead_letters) + outputs.duplicates
    if accounted != sent:
        msg = f"{sent} records sent but {accounted} accounted for; see {pipeline.worker.log_path}"
        raise click.ClickException(msg)


async def _run(
    settings: Settings,
    log_path: Path,
    limit: int | None,
    run_id: str,
    workdir: Path,
    timeout_s: float,
) -> tuple[Outputs, int, float, Pipeline]:
    pipeline = await Pipeline.start(settings, run_id, workdir, prefix="demo")
    click.echo(f"pricing worker for run {run_id} is up (log: {pipeline.worker.log_path})")
    try:
        records = itertools.islice(read_log(log_path), limit)
        started = time.perf_counter()
        with tqdm(desc="publish", unit=" events", total=limit) as progress:
            sent = await pipeline.publish(records, on_record=progress.update)

        with tqdm(desc="process", unit=" events", total=sent) as progress:

            def show_progress(processed: int) -> None:
                progress.update(processed - progress.n)

            stats = await pipeline.wait_processed(sent, timeout_s, on_progress=show_progress)
        wall_s = time.perf_counter() - started
        outputs = await pipeline.collect(sent)
        outputs.stats.update(stats)
        return outputs, sent, wall_s, pipeline
    finally:
        pipeline.stop()


def _print_summary(outputs: Outputs, sent: int, wall_s: float, pipeline: Pipeline) -> None:
    decisions = outputs.decisions
    reasons = Counter(letter["reason"] for letter in outputs.dead_letters)
    personalized = sum(1 for decision in decisions if decision["personalized"])
    discounts = [decision["discount"] for decision in decisions if decision["personalized"]]
    topics = pipeline.settings

    click.echo("")
    click.echo(f"records sent        {sent:>9,}   to {topics.events_topic}")
    click.echo(f"decisions           {len(decisions):>9,}   read back from {topics.prices_topic}")
    click.echo(
        f"dead letters        {len(outputs.dead_letters):>9,}   "
        f"read back from {topics.deadletter_topic}"
        + (f" ({', '.join(f'{r}: {n}' for r, n in sorted(reasons.items()))})" if reasons else "")
    )
    click.echo(f"duplicates          {outputs.duplicates:>9,}   counted by the worker")
    click.echo(f"personalized prices {personalized:>9,}")
    if discounts:
        click.echo(f"mean discount       {sum(discounts) / len(discounts):>9.1%}   of those")
    click.echo(f"wall time           {wall_s:>9.1f} s ({sent / wall_s:,.0f} events/s end to end)")


def _print_decisions(decisions: list[dict[str, Any]]) -> None:
    for decision in decisions:
        recommended = ", ".join(
            f"{item['item_id']} at {item['price']}" for item in decision["recommendations"][:3]
        )
        click.echo("")
        click.echo(
            f"user {decision['user_id']} {decision['event_time']}: item {decision['item_id']} "
            f"list {decision['list_price']} -> price {decision['price']} "
            f"(p(buy) {decision['purchase_probability']:.3f}, "
            f"reasons {', '.join(decision['reasons'])})"
        )
        click.echo(f"  recommended: {recommended}")
