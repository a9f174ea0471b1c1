"""In-process costs: one GRU step against re-running a whole history, and embedded replay."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from app.engine import ENGINE_STAGES, PricingEngine
from app.log_sources import LogRecord
from app.replay import replay_embedded
from app.state_store import InMemoryStateStore
from models.artifact import load_artifact
from models.serving import ModelEvent, SequenceModel

__all__ = ["batched_step_and_score", "embedded_replay_throughput", "incremental_vs_recompute"]


def _history(model: SequenceModel, length: int) -> list[ModelEvent]:
    catalog = model.catalog()
    return [
        ModelEvent(
            item_id=catalog[index % len(catalog)].item_id,
            event_type="cart" if index % 7 == 0 else "view",
            price=catalog[index % len(catalog)].reference_price,
            category=catalog[index % len(catalog)].category,
            seconds_since_previous=None if index == 0 else 30.0,
        )
        for index in range(length)
    ]


def incremental_vs_recompute(
    model: SequenceModel, model_dir: Path, lengths: Sequence[int], repeats: int
) -> list[dict[str, float | int]]:
    """Time a new event as one GRU step, and as a re-run over the user's whole history.

    The step is ``SequenceModel.step`` on the stored hidden state (batch of one). The
    re-run encodes the history plus the new event and runs the network over the sequence
    in one call, the fastest way to recompute. Both include encoding. Scoring is the same
    for both and not included. Figures are medians of ``repeats`` runs, in microseconds.
    """
    # The re-run needs the network's forward over a whole sequence, which SequenceModel
    # does not expose, so load the network of the same artifact directly.
    net = load_artifact(model_dir).net
    results = []
    for length in lengths:
        history = _history(model, length + 1)
        hidden = model.initial_hidden(1)
        for event in history[:-1]:
            hidden = model.step(hidden, [event])
        new_event = history[-1]

        step_timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            model.step(hidden, [new_event])
            step_timings.append(time.perf_counter() - started)

        rerun_timings = []
        for _ in range(max(3, repeats // max(1, length // 10))):
            started = time.perf_counter()
            batch = model.encode([history])
            with torch.no_grad():
                net(batch)
            rerun_timings.append(time.perf_counter() - started)

        step_us = 1e6 * statistics.median(step_timings)
        rerun_us = 1e6 * statistics.median(rerun_timings)
        results.append(
            {
                "history_events": length,
                "incremental_step_us": step_us,
                "recompute_us": rerun_us,
                "recompute_over_step": rerun_us / step_us,
            }
        )
    return results


def batched_step_and_score(
    model: SequenceModel, batch_sizes: Sequence[int], repeats: int, k: int = 10
) -> list[dict[str, float | int]]:
    """Time one GRU step plus top-``k`` scoring for B users at once, per user.

    This bounds what micro-batching the stream would save on the model. The worker does
    not batch (B = 1). Figures are medians of ``repeats`` runs, in microseconds per user.
    """
    results = []
    for batch_size in batch_sizes:
        events = _history(model, batch_size)
        hidden = model.step(model.initial_hidden(batch_size), events)
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            stepped = model.step(hidden, events)
            model.score(stepped, k=k)
            timings.append(time.perf_counter() - started)

        # The worker's decisions must equal the embedded replay's bit for bit, so a
        # batched step is only a drop-in when it matches the same rows stepped one by one.
        one_by_one = np.concatenate(
            [model.step(hidden[row : row + 1], [events[row]]) for row in range(batch_size)]
        )
        results.append(
            {
                "batch_size": batch_size,
                "step_and_score_us_per_user": 1e6 * statistics.median(timings) / batch_size,
                "step_bit_identical_to_single_rows": stepped.tobytes() == one_by_one.tobytes(),
                "step_max_abs_difference": float(np.abs(stepped - one_by_one).max()),
            }
        )
    return results


def embedded_replay_throughput(records: Sequence[LogRecord], model: SequenceModel) -> dict:
    """Run ``records`` through an in-memory engine; return events/s and mean stage costs."""
    totals: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def observe(stage: str, seconds: float) -> None:
        totals[stage] += seconds
        counts[stage] += 1

    engine = PricingEngine(model=model, store=InMemoryStateStore(), observe_stage=observe)
    cpu_started = time.process_time()
    summary = replay_embedded(records, engine)
    cpu_s = time.process_time() - cpu_started
    return {
        "cpu_ms_per_record": 1000 * cpu_s / summary.records if summary.records else None,
        "records": summary.records,
        "decisions": summary.decisions,
        "duplicates": summary.duplicates,
        "dead_letters": summary.dead_letter_count,
        "wall_s": summary.wall_s,
        "events_per_s": summary.records / summary.wall_s if summary.wall_s > 0 else None,
        "stage_mean_us": {
            stage: 1e6 * totals[stage] / counts[stage] for stage in ENGINE_STAGES if counts[stage]
        },
    }
