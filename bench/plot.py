"""Draw the pipeline benchmark's latency histogram and percentile-vs-rate plot as one PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_latency"]

_PERCENTILE_LABELS = ("p50", "p95", "p99", "p99.9", "max")


def plot_latency(
    latencies_ms: Mapping[str, Sequence[float]],
    summaries: Sequence[Mapping[str, object]],
    target_ms: float,
    path: Path,
) -> None:
    """Write a PNG: latency histograms per phase (left), percentiles per phase (right).

    ``latencies_ms`` maps a phase name to its latencies; ``summaries`` lists per phase
    its ``name`` and the latency_summary figures under ``latency_ms``.
    """
    figure, (histogram, percentiles) = plt.subplots(1, 2, figsize=(13, 5))

    all_values = [value for values in latencies_ms.values() for value in values]
    if all_values:
        low = max(min(all_values), 0.05)
        high = max(max(all_values), low * 10)
        bins = np.logspace(np.log10(low), np.log10(high), 60)
        for name, values in latencies_ms.items():
            if values:
                histogram.hist(values, bins=bins, histtype="step", linewidth=1.5, label=name)
    histogram.axvline(target_ms, color="grey", linestyle="--", label=f"{target_ms:g} ms target")
    histogram.set_xscale("log")
    histogram.set_yscale("log")
    histogram.set_xlabel("event produced -> decision consumed (ms)")
    histogram.set_ylabel("decisions")
    histogram.set_title("Latency distribution per phase")
    histogram.legend()

    names = [str(summary["name"]) for summary in summaries]
    positions = np.arange(len(names))
    for label in _PERCENTILE_LABELS:
        values = []
        for summary in summaries:
            figures = summary["latency_ms"]
            value = figures.get(label) if isinstance(figures, Mapping) else None
            values.append(np.nan if value is None else value)
        percentiles.plot(positions, values, marker="o", label=label)
    percentiles.axhline(target_ms, color="grey", linestyle="--")
    percentiles.set_xticks(positions, names)
    percentiles.set_yscale("log")
    percentiles.set_xlabel("offered load (events/s)")
    percentiles.set_ylabel("latency (ms)")
    percentiles.set_title("Latency percentiles per offered load")
    percentiles.legend()

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
