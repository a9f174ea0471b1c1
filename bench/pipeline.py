"""Benchmark the pricing pipeline end to end through the local Kafka broker.

Usage (from the repository root, with the broker running on 127.0.0.1:9092):

    .venv/bin/python -m bench.pipeline OUT_DIR

Starts a worker process on topics of its own and sends events of a recorded log at fixed
rates and then flat out. Each decision is timed from the moment its event was handed to
the producer to the moment a consumer of the prices topic received it. Samples the
worker's CPU time and resident memory from /proc, scrapes its per-stage timers from
/metrics, then measures in this process the incremental GRU step against re-running a
whole history and the embedded replay (no Kafka). Writes OUT_DIR/pipeline.json and
OUT_DIR/latency.png, and deletes the topics it created.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
import urllib.error
import uuid
from pathlib import Path
from typing import Any

import click
import torch
from aiokafka.admin import AIOKafkaAdminClient

from app.log_sources import read_log
from app.settings import Settings
from app.topics import create_topics
from app.worker_process import WorkerProcess
from bench.engine_costs import (
    batched_step_and_score,
    embedded_replay_throughput,
    incremental_vs_recompute,
)
from bench.load import LoadGenerator, PhaseResult, events_from_log, numbered_events
from bench.measures import (
    cpu_percent,
    host_cpu_times,
    latency_summary,
    read_process_sample,
    stage_costs,
    stage_totals,
)
from bench.plot import plot_latency
from models.serving import DEFAULT_MODEL_DIR, SequenceModel

log = logging.getLogger("bench.pipeline")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("PRICESTREAM_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_LOG = SHARED_DATA / "rees46_multicategory_2019oct_head" / "2019-Oct_head_17434rows.csv"
TARGET_P99_MS = 10.0


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _machine() -> dict[str, Any]:
    model_name = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model_name,
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }


def _wait_until_ready(worker: WorkerProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    worker.wait_ready(timeout_s)
    while time.monotonic() < deadline:
        try:
            if worker.get_json("/ready").get("ready"):
                return
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise
        time.sleep(0.2)
    msg = f"worker was not ready within {timeout_s:.0f} s; see {worker.log_path}"
    raise TimeoutError(msg)


def _scrape(worker: WorkerProcess) -> str:
    import urllib.request

    url = f"http://127.0.0.1:{worker.web_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


async def _delete_topics(settings: Settings, prefixes: tuple[str, ...]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefixes)]
        if names:
            await admin.delete_topics(names)
        return sorted(names)
    finally:
        await admin.close()


async def _run_phases(
    settings: Settings,
    worker: WorkerProcess,
    events: list,
    plan: list[tuple[str, float | None, int]],
    linger_ms: int,
    drain_timeout_s: float,
    max_backlog: int,
    prefix: str,
) -> list[tuple[PhaseResult, dict[str, Any]]]:
    load = LoadGenerator(
        settings.bootstrap_servers, settings.events_topic, settings.prices_topic, linger_ms
    )
    await load.start()
    stream = numbered_events(events, prefix)
    results = []
    try:
        for name, rate, count in plan:
            pid = worker.pid
            assert pid is not None
            process_before = read_process_sample(pid)
            host_before = host_cpu_times()
            stages_before = stage_totals(await asyncio.to_thread(_scrape, worker))
            own_before = time.process_time()
            started = time.perf_counter()
            log.info("phase %s: sending %d events", name, count)

            # A flat-out phase has a backlog by design, so its event count bounds it.
            backlog = None if rate is None else max_backlog
            result = await load.run_phase(
                PhaseResult(name, rate), stream, count, drain_timeout_s, backlog
            )

            wall_s = time.perf_counter() - started
            process_after = read_process_sample(pid)
            host_after = host_cpu_times()
            stages_after = stage_totals(await asyncio.to_thread(_scrape, worker))
            worker_cpu_s = process_after.cpu_s - process_before.cpu_s
            measured = {
                "wall_s": wall_s,
                # CPU time per record does not depend on how much CPU other processes
                # leave to the worker, unlike wall-clock rates on a shared machine.
                "worker_cpu_ms_per_record": 1000 * worker_cpu_s / result.received
                if result.received
                else None,
                "worker_cpu_percent": cpu_percent(
                    process_before.cpu_s, process_after.cpu_s, wall_s
                ),
                "worker_rss_mib": process_after.rss_bytes / 2**20,
                "bench_cpu_percent": cpu_percent(own_before, time.process_time(), wall_s),
                "host_cpu_busy_percent": cpu_percent(host_before[0], host_after[0], wall_s)
                if host_after[1] > host_before[1]
                else None,
                "stages": stage_costs(stages_before, stages_after),
            }
            results.append((result, measured))
    finally:
        await load.stop()
    if load.unmatched:
        log.warning("%d decisions matched no event sent by this run", load.unmatched)
    return results


def _phase_report(result: PhaseResult, measured: dict[str, Any]) -> dict[str, Any]:
    throughput = None
    if result.first_sent_at is not None and result.last_received_at is not None:
        span_s = result.last_received_at - result.first_sent_at
        throughput = result.received / span_s if span_s > 0 else None
    return {
        "name": result.name,
        "offered_rate": result.offered_rate,
        "sent": result.sent,
        "received": result.received,
        "all_received": result.drained,
        "stopped_by_backlog": result.stopped_by_backlog,
        "send_rate": result.sent / result.send_wall_s if result.send_wall_s > 0 else None,
        "decisions_per_s": throughput,
        "latency_ms": latency_summary(result.latencies_s),
        **measured,
    }


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--log",
    "log_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_LOG,
    show_default=True,
    help="Recorded log to send (JSONL events or REES46 CSV).",
)
@click.option(
    "--rates",
    default="50,500,1000,5000",
    show_default=True,
    help="Fixed send rates in events per second, comma-separated.",
)
@click.option(
    "--phase-s",
    default=8.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds of sending per fixed-rate phase.",
)
@click.option(
    "--flat-out-events",
    default=6_000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Events sent as fast as possible in the last phase; 0 skips it.",
)
@click.option(
    "--warmup-events",
    default=2_000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Events sent at 500 events/s before the measured phases, not reported.",
)
@click.option(
    "--drain-timeout-s",
    default=90.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds to wait after a phase's last send for its decisions.",
)
@click.option(
    "--max-backlog",
    default=3_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Sent events without a decision at which a fixed-rate phase stops sending.",
)
@click.option(
    "--producer-linger-ms",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="linger_ms of the benchmark's own producer of events.",
)
@click.option(
    "--worker-env",
    multiple=True,
    metavar="NAME=VALUE",
    help="Extra environment for the worker, e.g. PRODUCER_LINGER=0.001 (a Faust setting).",
)
@click.option(
    "--replay-records",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Records of the log for the embedded replay measurement; 0 skips it.",
)
def main(
    out_dir: Path,
    log_path: Path,
    rates: str,
    phase_s: float,
    flat_out_events: int,
    warmup_events: int,
    drain_timeout_s: float,
    max_backlog: int,
    producer_linger_ms: int,
    worker_env: tuple[str, ...],
    replay_records: int,
) -> None:
    """Measure end-to-end latency and throughput; write OUT_DIR/pipeline.json and a PNG."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        fixed_rates = [float(rate) for rate in rates.split(",") if rate.strip()]
    except ValueError as error:
        msg = f"--rates must be numbers separated by commas (got {rates!r})"
        raise click.BadParameter(msg) from error
    extra_env = {}
    for item in worker_env:
        name, separator, value = item.partition("=")
        if not separator or not name:
            msg = f"--worker-env must be NAME=VALUE (got {item!r})"
            raise click.BadParameter(msg)
        extra_env[name] = value

    records = list(read_log(log_path))
    events = events_from_log(records)
    suffix = uuid.uuid4().hex[:8]
    app_id = f"bench-{suffix}"
    workdir = Path(tempfile.mkdtemp(prefix=f"pricestream-{app_id}-"))
    env = {
        "PRICESTREAM_APP_ID": app_id,
        "PRICESTREAM_EVENTS_TOPIC": f"bench.{suffix}.events",
        "PRICESTREAM_PRICES_TOPIC": f"bench.{suffix}.prices",
        "PRICESTREAM_DEADLETTER_TOPIC": f"bench.{suffix}.deadletter",
        "PRICESTREAM_DATA_DIR": str(workdir / "state"),
        **extra_env,
    }
    settings = Settings.from_env({**os.environ, **env})
    plan: list[tuple[str, float | None, int]] = []
    if warmup_events:
        plan.append(("warmup", 500.0, warmup_events))
    plan += [(f"{rate:g}/s", rate, int(rate * phase_s)) for rate in fixed_rates]
    if flat_out_events:
        plan.append(("flat out", None, flat_out_events))

    asyncio.run(create_topics(settings))
    worker = WorkerProcess(env, out_dir / "worker.log", web_port=_free_port())
    worker.start()
    try:
        _wait_until_ready(worker, 120.0)
        phases = asyncio.run(
            _run_phases(
                settings,
                worker,
                events,
                plan,
                producer_linger_ms,
                drain_timeout_s,
                max_backlog,
                suffix,
            )
        )
        final_metrics = _scrape(worker)
    finally:
        worker.stop()
        deleted = asyncio.run(_delete_topics(settings, (app_id, f"bench.{suffix}.")))
        log.info("deleted %d topics of this run", len(deleted))
    (out_dir / "worker_metrics.txt").write_text(final_metrics)

    model = SequenceModel.load_default()
    model_costs = incremental_vs_recompute(model, DEFAULT_MODEL_DIR, (10, 100, 1000), 300)
    batched = batched_step_and_score(model, (1, 8, 32, 128), 100)
    replay = embedded_replay_throughput(records[:replay_records], model) if replay_records else None

    reports = [_phase_report(result, measured) for result, measured in phases]
    measured_phases = [report for report in reports if report["name"] != "warmup"]
    flat_out = next((r for r in measured_phases if r["offered_rate"] is None), None)
    document = {
        "command": " ".join([Path(sys.executable).name, "-m", "bench.pipeline", *sys.argv[1:]]),
        "finished_at_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": _machine(),
        "broker": settings.bootstrap_servers,
        "log": str(log_path),
        "worker_env": extra_env,
        "producer_linger_ms": producer_linger_ms,
        "target_p99_ms": TARGET_P99_MS,
        "phases": reports,
        "saturation_decisions_per_s": None if flat_out is None else flat_out["decisions_per_s"],
        "model_step_vs_recompute": model_costs,
        "batched_step_and_score": batched,
        "embedded_replay": replay,
    }
    (out_dir / "pipeline.json").write_text(json.dumps(document, indent=2) + "\n")
    plot_latency(
        {r.name: [1000 * s for s in r.latencies_s] for r, _ in phases if r.name != "warmup"},
        measured_phases,
        TARGET_P99_MS,
        out_dir / "latency.png",
    )
    _echo_summary(measured_phases, model_costs, batched, replay)
    click.echo(f"wrote {out_dir / 'pipeline.json'} and {out_dir / 'latency.png'}")


def _echo_summary(
    phases: list[dict], model_costs: list[dict], batched: list[dict], replay: dict | None
) -> None:
    click.echo("phase       sent  recv  dec/s    p50    p95    p99  p99.9    max  cpu%  rss MiB")
    for phase in phases:
        figures = phase["latency_ms"]

        def cell(label: str, figures: dict = figures) -> str:
            value = figures.get(label)
            return "     -" if value is None else f"{value:6.1f}"

        rate = phase["decisions_per_s"]
        click.echo(
            f"{phase['name']:9} {phase['sent']:6} {phase['received']:5} "
            f"{(rate or 0):6.0f} {cell('p50')} {cell('p95')} {cell('p99')} "
            f"{cell('p99.9')} {cell('max')} {phase['worker_cpu_percent']:5.0f} "
            f"{phase['worker_rss_mib']:8.0f}"
        )
    for row in model_costs:
        click.echo(
            f"history {row['history_events']:5}: step {row['incremental_step_us']:8.0f} us, "
            f"recompute {row['recompute_us']:9.0f} us ({row['recompute_over_step']:.0f}x)"
        )
    for row in batched:
        click.echo(
            f"batch {row['batch_size']:4}: step + score "
            f"{row['step_and_score_us_per_user']:6.0f} us per user, step bit-identical to "
            f"single rows: {row['step_bit_identical_to_single_rows']}"
        )
    if replay is not None:
        click.echo(f"embedded replay: {replay['events_per_s']:.0f} events/s")


if __name__ == "__main__":
    main()
