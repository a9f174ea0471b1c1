"""``pricestream train``: train the GRU sequence model on recorded logs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from models.logs import FORMATS, LogFormatError, LogRowError

__all__ = ["log_options", "train"]

_ENV = "PRICESTREAM_"


def log_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options that choose and split the logs, shared by train and evaluate."""
    options = [
        click.argument(
            "logs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
        ),
        click.option(
            "--format",
            "log_format",
            type=click.Choice(FORMATS),
            envvar=_ENV + "LOG_FORMAT",
            show_envvar=True,
            help="Layout of every log; detected from each file's first line when omitted.",
        ),
        click.option(
            "--test-log",
            "test_logs",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help="Log whose events form the test part (repeatable); the LOGS then hold "
            "train and valid only, and --test-fraction is unused.",
        ),
        click.option(
            "--valid-fraction",
            default=0.1,
            show_default=True,
            type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
            envvar=_ENV + "VALID_FRACTION",
            show_envvar=True,
            help="Share of events, latest by event time before the test part, used to "
            "pick the best epoch.",
        ),
        click.option(
            "--test-fraction",
            default=0.1,
            show_default=True,
            type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
            envvar=_ENV + "TEST_FRACTION",
            show_envvar=True,
            help="Share of events, latest by event time, held out for evaluate.",
        ),
        click.option(
            "--max-events",
            type=click.IntRange(min=2),
            envvar=_ENV + "MAX_EVENTS",
            show_envvar=True,
            help="Use only the earliest N events of LOGS (by event time), for quick runs.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@log_options
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the model artifact and loss_curve.png (an existing model is overwritten).",
)
@click.option(
    "--epochs",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "EPOCHS",
    show_envvar=True,
    help="Maximum passes over the train part.",
)
@click.option(
    "--patience",
    default=4,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "PATIENCE",
    show_envvar=True,
    help="Stop after this many epochs without a better valid Recall@20.",
)
@click.option(
    "--hidden-size",
    default=64,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "HIDDEN_SIZE",
    show_envvar=True,
    help="GRU state size (values per user; stored as 4 bytes each).",
)
@click.option(
    "--item-dim",
    default=48,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "ITEM_DIM",
    show_envvar=True,
    help="Item embedding size.",
)
@click.option(
    "--dropout",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, max_open=True),
    envvar=_ENV + "DROPOUT",
    show_envvar=True,
    help="Dropout on input item embeddings during training.",
)
@click.option(
    "--weight-decay",
    default=0.0,
    show_default=True,
    type=click.FloatRange(min=0.0),
    envvar=_ENV + "WEIGHT_DECAY",
    show_envvar=True,
    help="Adam L2 weight decay.",
)
@click.option(
    "--prior-price-slope",
    default=-1.0,
    show_default=True,
    type=click.FloatRange(max=0.0, max_open=True),
    envvar=_ENV + "PRIOR_PRICE_SLOPE",
    show_envvar=True,
    help="Propensity slope b (change of the purchase logit per unit of "
    "log(price / reference price)) kept where the log has no price variation within items.",
)
@click.option(
    "--batch-size",
    default=64,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "BATCH_SIZE",
    show_envvar=True,
    help="Sequences per batch.",
)
@click.option(
    "--learning-rate",
    default=3e-3,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    envvar=_ENV + "LEARNING_RATE",
    show_envvar=True,
    help="Adam learning rate.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    envvar=_ENV + "SEED",
    show_envvar=True,
    help="Seed for initial weights, shuffling and dropout.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_ENV + "THREADS",
    show_envvar=True,
    help="torch CPU threads.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show a progress bar per epoch.",
)
def train(
    logs: tuple[Path, ...],
    log_format: str | None,
    test_logs: tuple[Path, ...],
    valid_fraction: float,
    test_fraction: float,
    max_events: int | None,
    out: Path,
    epochs: int,
    patience: int,
    hidden_size: int,
    item_dim: int,
    dropout: float,
    weight_decay: float,
    prior_price_slope: float,
    batch_size: int,
    learning_rate: float,
    seed: int,
    threads: int,
    progress: bool,
) -> None:
    """Train the GRU on LOGS and write the model artifact to --out.

    Events are split by event time into train, valid and test parts. Training reads the
    train part, the valid part picks the best epoch, and `pricestream evaluate` reads the
    test part. A NaN loss stops training and writes nothing.
    """
    import torch

    from models.artifact import save_artifact
    from models.dataset import load_dataset
    from models.plots import plot_loss_curve
    from models.training import TrainingConfig, TrainingDivergedError, train_model

    torch.set_num_threads(threads)
    try:
        dataset = load_dataset(
            logs, test_logs, log_format, valid_fraction, test_fraction, max_events
        )
    except (LogFormatError, LogRowError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"read {dataset.event_count} events in {len(dataset.sequences)} sequences; "
        f"valid from {_utc(dataset.split.valid_start_s)}, test from "
        f"{_utc(dataset.split.test_start_s)}"
    )
    config = TrainingConfig(
        hidden_size=hidden_size,
        item_dim=item_dim,
        dropout=dropout,
        weight_decay=weight_decay,
        prior_price_slope=prior_price_slope,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
    )
    try:
        result = train_model(dataset.sequences, dataset.split, config, progress=progress)
    except TrainingDivergedError as error:
        raise click.ClickException(str(error)) from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error

    metrics = {
        **result.metrics,
        # File names only, so that a committed artifact carries no local paths.
        "logs": [path.name for path in logs],
        "test_logs": [path.name for path in test_logs],
        "max_events": max_events,
        "log_format": log_format,
    }
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        msg = f"--out {out} is a non-empty directory without a model; choose another path"
        raise click.ClickException(msg)
    version = save_artifact(out, result.net, result.stats, result.items, result.categories, metrics)
    plot_loss_curve(
        result.metrics["history"], out / "loss_curve.png", f"{version} ({logs[0].name})"
    )
    for record in result.metrics["history"]:
        click.echo(
            f"epoch {record['epoch']:>2}: train loss {record['train_item_loss']:.4f}, "
            f"valid loss {record['valid_item_loss']:.4f}, "
            f"valid Recall@20 {record['valid_recall@20']:.4f}, "
            f"valid MRR@20 {record['valid_mrr@20']:.4f}"
        )
    size_kib = sum(path.stat().st_size for path in out.iterdir()) / 1024
    click.echo(
        f"best epoch {result.metrics['best_epoch']}; wrote {version} to {out} "
        f"({size_kib:.0f} KiB, {len(result.items)} items)"
    )


def _utc(time_s: float) -> str:
    return datetime.fromtimestamp(time_s, tz=UTC).isoformat(timespec="seconds")
