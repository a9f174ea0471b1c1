from __future__ import annotations

import os

import pytest

from bench.measures import (
    cpu_percent,
    latency_summary,
    parse_process_sample,
    read_process_sample,
    stage_costs,
    stage_totals,
)

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def test_latency_summary_percentiles_in_ms() -> None:
    latencies_s = [index / 1000 for index in range(1, 1001)]  # 1 ms .. 1000 ms

    summary = latency_summary(latencies_s)

    assert summary["count"] == 1000
    assert summary["p50"] == pytest.approx(500.5)
    assert summary["p99"] == pytest.approx(990.01)
    assert summary["p99.9"] == pytest.approx(999.001)
    assert summary["max"] == pytest.approx(1000.0)
    assert summary["mean"] == pytest.approx(500.5)


def test_latency_summary_empty_all_none() -> None:
    summary = latency_summary([])

    assert summary["count"] == 0
    assert summary["p99"] is None
    assert summary["max"] is None


def test_process_sample_command_with_spaces_parsed() -> None:
    fields_after_name = ["S"] + ["0"] * 10 + [str(3 * TICKS_PER_S), str(TICKS_PER_S)] + ["0"] * 30
    stat_line = "4242 (python worker) " + " ".join(fields_after_name)
    statm_line = "1000 250 100 1 0 300 0"

    sample = parse_process_sample(stat_line, statm_line)

    assert sample.cpu_s == pytest.approx(4.0)
    assert sample.rss_bytes == 250 * PAGE_BYTES


def test_process_sample_own_process_plausible() -> None:
    sample = read_process_sample(os.getpid())

    assert sample.cpu_s > 0
    assert sample.rss_bytes > 10 * 2**20


def test_cpu_percent_of_one_core() -> None:
    assert cpu_percent(10.0, 11.5, 2.0) == pytest.approx(75.0)
    assert cpu_percent(10.0, 11.5, 0.0) is None


METRICS_TEXT = """\
# HELP pricestream_stage_seconds Time spent in each processing stage.
# TYPE pricestream_stage_seconds histogram
pricestream_stage_seconds_bucket{le="0.001",stage="decode"} 4.0
pricestream_stage_seconds_bucket{le="+Inf",stage="decode"} 4.0
pricestream_stage_seconds_count{stage="decode"} 4.0
pricestream_stage_seconds_sum{stage="decode"} 0.0002
pricestream_stage_seconds_bucket{le="+Inf",stage="model_step"} 2.0
pricestream_stage_seconds_count{stage="model_step"} 2.0
pricestream_stage_seconds_sum{stage="model_step"} 0.001
# HELP pricestream_decisions_total Price decisions produced.
# TYPE pricestream_decisions_total counter
pricestream_decisions_total 4.0
"""


def test_stage_totals_read_from_metrics_text() -> None:
    totals = stage_totals(METRICS_TEXT)

    assert totals == {"decode": (4.0, 0.0002), "model_step": (2.0, 0.001)}


def test_stage_costs_mean_between_scrapes() -> None:
    before = {"decode": (4.0, 0.0002), "model_step": (2.0, 0.001)}
    after = {"decode": (14.0, 0.0012), "model_step": (2.0, 0.001)}

    costs = stage_costs(before, after)

    assert costs["decode"]["records"] == 10
    assert costs["decode"]["mean_us"] == pytest.approx(100.0)
    assert costs["model_step"]["mean_us"] is None
