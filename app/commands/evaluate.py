"""``pricestream evaluate``: score a trained model and baselines on the test part of logs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from app.commands.train import log_options
from models.logs import LogFormatError, LogRowError

__all__ = ["evaluate"]


@click.command()
@log_options
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model artifact directory; the committed default model when omitted.",
)
@click.option(
    "--report",
    "report_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the JSON report; the markdown table goes next to it (.md).",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="PRICESTREAM_THREADS",
    show_envvar=True,
    help="torch CPU threads.",
)
def evaluate(
    logs: tuple[Path, ...],
    log_format: str | None,
    test_logs: tuple[Path, ...],
    valid_fraction: float,
    test_fraction: float,
    max_events: int | None,
    model_dir: Path | None,
    report_path: Path,
    threads: int,
) -> None:
    """Compare the model with most-popular and item-kNN baselines on the test part of LOGS.

    Pass the same LOGS and split options as to `pricestream train`: the split must match
    the one recorded in the model, otherwise test events could have been trained on.
    """
    import torch

    from models.artifact import ModelArtifactError, load_artifact
    from models.dataset import load_dataset
    from models.report import evaluate_artifact, markdown_report
    from models.serving import DEFAULT_MODEL_DIR

    torch.set_num_threads(threads)
    directory = model_dir or DEFAULT_MODEL_DIR
    try:
        artifact = load_artifact(directory)
        dataset = load_dataset(
            logs, test_logs, log_format, valid_fraction, test_fraction, max_events
        )
    except (ModelArtifactError, LogFormatError, LogRowError, ValueError) as error:
        raise click.ClickException(str(error)) from error

    recorded = artifact.metrics.get("split", {})
    for name in ("valid_start_s", "test_start_s"):
        value = getattr(dataset.split, name)
        if name in recorded and not math.isclose(recorded[name], value, abs_tol=1e-3):
            msg = (
                f"the split differs from the one {directory} was trained with: {name} is "
                f"{value} here but {recorded[name]} in the model; pass the LOGS and split "
                "options used for `pricestream train`"
            )
            raise click.ClickException(msg)

    report = evaluate_artifact(artifact, dataset.sequences, dataset.split)
    report["model_dir"] = str(directory)
    report["logs"] = [path.name for path in logs]
    report["test_logs"] = [path.name for path in test_logs]
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
    table = markdown_report(report, logs[0].name)
    report_path.with_suffix(".md").write_text(table)
    click.echo(table)
    click.echo(f"wrote {report_path} and {report_path.with_suffix('.md')}")


def _json_default(value: object) -> object:
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)
