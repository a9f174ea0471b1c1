"""Measure single-user latency of one model step plus top-20 scoring on one CPU thread.

Usage: python bench/model_step.py OUT.json [--model DIR] [--iterations N]

Replays events of the catalog through ``SequenceModel.step`` and ``score`` for one user
(batch of 1), times each step + score pair with ``time.perf_counter_ns`` and writes the
median, p99 and mean in microseconds with the machine description to OUT.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import click
import torch

from models.serving import ModelEvent, SequenceModel


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Model artifact directory; the committed default model when omitted.",
)
@click.option("--iterations", default=5000, show_default=True, type=click.IntRange(min=10))
@click.option("--warmup", default=200, show_default=True, type=click.IntRange(min=0))
@click.option("--k", default=20, show_default=True, type=click.IntRange(min=1))
def benchmark(out: Path, model_dir: Path | None, iterations: int, warmup: int, k: int) -> None:
    """Time step + score for a batch of one user and write the figures to OUT."""
    model = SequenceModel.load(model_dir) if model_dir else SequenceModel.load_default()
    catalog = model.catalog()
    events = [
        ModelEvent(
            item_id=entry.item_id,
            event_type="cart" if index % 7 == 0 else "view",
            price=entry.reference_price,
            category=entry.category,
            seconds_since_previous=None if index == 0 else 5.0 + index % 60,
        )
        for index, entry in enumerate(catalog[: min(len(catalog), 997)])
    ]
    hidden = model.initial_hidden(1)
    load_before = os.getloadavg()[0]
    timings_ns = []
    for index in range(warmup + iterations):
        event = events[index % len(events)]
        started = time.perf_counter_ns()
        hidden = model.step(hidden, [event])
        model.score(hidden, k=k)
        elapsed = time.perf_counter_ns() - started
        if index >= warmup:
            timings_ns.append(elapsed)

    timings_us = sorted(value / 1000.0 for value in timings_ns)
    figures = {
        "what": f"SequenceModel.step + score(k={k}), batch of 1",
        "model_version": model.version,
        "hidden_size": model.hidden_size,
        "items": len(catalog),
        "iterations": iterations,
        "median_us": statistics.median(timings_us),
        "p99_us": timings_us[int(0.99 * (len(timings_us) - 1))],
        "mean_us": statistics.fmean(timings_us),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        # Other processes on a shared machine inflate the tail; the 1-minute load average
        # before and after the run shows how busy the CPUs were.
        "load_average_1m_before": load_before,
        "load_average_1m_after": os.getloadavg()[0],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=1) + "\n")
    click.echo(
        f"step + top-{k} score, 1 user, {iterations} iterations on {figures['torch_threads']} "
        f"torch thread(s): median {figures['median_us']:.1f} us, "
        f"p99 {figures['p99_us']:.1f} us (load average {load_before:.2f} before, "
        f"{figures['load_average_1m_after']:.2f} after)"
    )


if __name__ == "__main__":
    benchmark()
