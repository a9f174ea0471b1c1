"""Pure helpers of the pipeline benchmark: percentiles, /proc samples, scraped stage costs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "PERCENTILES",
    "ProcessSample",
    "cpu_percent",
    "host_cpu_times",
    "latency_summary",
    "parse_process_sample",
    "read_process_sample",
    "stage_costs",
    "stage_totals",
]

# Percentile label -> percentile rank in percent.
PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}

_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def latency_summary(latencies_s: Iterable[float]) -> dict[str, float | int | None]:
    """Return count, mean, p50, p95, p99, p99.9 and max of latencies, in milliseconds.

    Percentiles interpolate linearly between the nearest samples (numpy's default). With
    no samples every figure is None and the count is 0.
    """
    values = np.fromiter(latencies_s, dtype=np.float64) * 1000.0
    if values.size == 0:
        return {"count": 0, "mean": None, **dict.fromkeys(PERCENTILES), "max": None}
    summary: dict[str, float | int | None] = {
        "count": int(values.size),
        "mean": float(values.mean()),
    }
    for label, rank in PERCENTILES.items():
        summary[label] = float(np.percentile(values, rank))
    summary["max"] = float(values.max())
    return summary


@dataclass(frozen=True)
class ProcessSample:
    """CPU time used so far and resident memory of one process."""

    cpu_s: float  # user + system time since the process started
    rss_bytes: int


def parse_process_sample(stat_line: str, statm_line: str) -> ProcessSample:
    """Read a ProcessSample from the text of /proc/PID/stat and /proc/PID/statm."""
    # The command name (field 2) is in brackets and may contain spaces, so split after
    # the last closing bracket. utime and stime are fields 14 and 15, in clock ticks.
    fields = stat_line.rsplit(")", 1)[1].split()
    utime_ticks, stime_ticks = int(fields[11]), int(fields[12])
    resident_pages = int(statm_line.split()[1])
    return ProcessSample(
        cpu_s=(utime_ticks + stime_ticks) / _CLOCK_TICKS_PER_S,
        rss_bytes=resident_pages * _PAGE_BYTES,
    )


def read_process_sample(pid: int) -> ProcessSample:
    """Sample the CPU time and resident memory of process ``pid`` from /proc."""
    with open(f"/proc/{pid}/stat") as stat, open(f"/proc/{pid}/statm") as statm:
        return parse_process_sample(stat.read(), statm.read())


def host_cpu_times() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine, summed over its cores."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
    total = sum(fields[:8])
    busy = total - fields[3] - fields[4]
    return busy / _CLOCK_TICKS_PER_S, total / _CLOCK_TICKS_PER_S


def cpu_percent(cpu_s_before: float, cpu_s_after: float, wall_s: float) -> float | None:
    """Return CPU time used over ``wall_s`` as a percentage of one core."""
    if wall_s <= 0:
        return None
    return 100.0 * (cpu_s_after - cpu_s_before) / wall_s


def stage_totals(metrics_text: str) -> dict[str, tuple[float, float]]:
    """Return stage -> (count, sum of seconds) from a worker's /metrics text."""
    totals: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "pricestream_stage_seconds":
            continue
        for sample in family.samples:
            stage = sample.labels.get("stage")
            if stage is None:
                continue
            entry = totals.setdefault(stage, [0.0, 0.0])
            if sample.name.endswith("_count"):
                entry[0] = sample.value
            elif sample.name.endswith("_sum"):
                entry[1] = sample.value
    return {stage: (count, seconds) for stage, (count, seconds) in totals.items()}


def stage_costs(
    before: Mapping[str, tuple[float, float]], after: Mapping[str, tuple[float, float]]
) -> dict[str, dict[str, float | None]]:
    """Return per stage the records timed and mean microseconds between two scrapes."""
    costs: dict[str, dict[str, float | None]] = {}
    for stage, (count_after, seconds_after) in after.items():
        count_before, seconds_before = before.get(stage, (0.0, 0.0))
        count = count_after - count_before
        mean_us = None if count <= 0 else 1e6 * (seconds_after - seconds_before) / count
        costs[stage] = {"records": count, "mean_us": mean_us}
    return costs
