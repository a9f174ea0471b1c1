"""``pricestream simulate``: compare pricing policies on simulated buyers replayed from a log."""

from __future__ import annotations

from pathlib import Path

import click

from models.logs import LogFormatError, LogRowError, detect_format, read_log

__all__ = ["simulate"]

_ENV = "PRICESTREAM_"
# Layouts that carry users, prices and purchases; the others have session clicks only.
_PRICED_FORMATS = ("rees46", "jsonl")


@click.command()
@click.argument(
    "log_path",
    metavar="LOG",
    required=False,
    envvar=_ENV + "SIMULATE_LOG",
    type=click.Path(path_type=Path),
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    envvar=_ENV + "SIMULATE_SEED",
    show_envvar=True,
    help="Seed of the hidden buyer draws and of Thompson sampling.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    envvar=_ENV + "SIMULATE_OUT",
    show_envvar=True,
    help="Directory for simulation.json and simulation.png; created when missing.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    envvar=_ENV + "MODEL_DIR",
    show_envvar=True,
    help="Model artifact directory; the committed default model when omitted.",
)
@click.option(
    "--max-users",
    type=click.IntRange(min=1),
    envvar=_ENV + "SIMULATE_MAX_USERS",
    show_envvar=True,
    help="Simulate only the first N users of the log (all when omitted).",
)
@click.option(
    "--wtp-spread",
    default=0.25,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    envvar=_ENV + "SIMULATE_WTP_SPREAD",
    show_envvar=True,
    help="Median scale of log(willingness to pay / list price); smaller means more "
    "price-sensitive buyers.",
)
@click.option(
    "--wtp-level",
    default=0.0,
    show_default=True,
    type=float,
    envvar=_ENV + "SIMULATE_WTP_LEVEL",
    show_envvar=True,
    help="Mean of log(willingness to pay / list price) for a user of median price level; "
    "0 means half of the interested buyers accept the list price.",
)
@click.option(
    "--wtp-price-level-weight",
    default=0.5,
    show_default=True,
    type=click.FloatRange(min=0.0),
    envvar=_ENV + "SIMULATE_WTP_PRICE_LEVEL_WEIGHT",
    show_envvar=True,
    help="How much a user's measured price level (log of viewed prices over category "
    "medians) raises their willingness to pay; 0 makes it independent of behaviour.",
)
def simulate(
    log_path: Path | None,
    seed: int,
    out_dir: Path,
    model_dir: Path | None,
    max_users: int | None,
    wtp_spread: float,
    wtp_level: float,
    wtp_price_level_weight: float,
) -> None:
    """Compare pricing policies on simulated buyers replayed from LOG.

    The policies are list price, the best uniform discount, pricestream, pricestream with
    Thompson sampling and a guardrailed oracle. LOG is a REES46 CSV or pricestream JSONL
    log with prices and purchases (environment variable PRICESTREAM_SIMULATE_LOG). Prints
    a table and writes simulation.json and simulation.png to --out.
    """
    import torch

    from app.pricing import PolicyConfig
    from app.simulation.metrics import policy_metrics
    from app.simulation.population import (
        PopulationAssumptions,
        PopulationError,
        build_population,
    )
    from app.simulation.report import SimulationReport, format_table, write_json, write_plot
    from app.simulation.runner import run_simulation
    from app.simulation.signals import model_signals
    from models.artifact import ModelArtifactError
    from models.serving import DEFAULT_MODEL_DIR, SequenceModel

    if log_path is None:
        msg = (
            "missing LOG: pass a REES46 CSV or pricestream JSONL log with prices and "
            "purchases, or set PRICESTREAM_SIMULATE_LOG"
        )
        raise click.UsageError(msg)
    torch.set_num_threads(1)
    try:
        layout = detect_format(log_path)
        if layout not in _PRICED_FORMATS:
            msg = (
                f"{log_path}: the {layout} layout has no prices or purchases; simulate "
                f"needs one of {', '.join(_PRICED_FORMATS)}"
            )
            raise click.ClickException(msg)
        events = read_log(log_path, layout)
        assumptions = PopulationAssumptions(
            wtp_spread_median=wtp_spread,
            wtp_level_base=wtp_level,
            wtp_price_level_weight=wtp_price_level_weight,
        )
        population = build_population(events, seed, assumptions, max_users)
        model = SequenceModel.load(model_dir or DEFAULT_MODEL_DIR)
    except (LogFormatError, LogRowError, ModelArtifactError) as error:
        raise click.ClickException(str(error)) from error
    except (PopulationError, ValueError) as error:
        msg = f"{log_path}: {error}"
        raise click.ClickException(msg) from error

    calibration = population.calibration
    click.echo(
        f"{log_path}: {calibration.users} users, {calibration.pairs} (user, item) pairs, "
        f"{calibration.logged_purchases} bought in the log; model {model.version}"
    )
    signals = model_signals(model, population)
    config = PolicyConfig()
    simulation = run_simulation(population, signals, config, progress=click.echo)
    oracle = simulation.runs[-1]
    metrics = tuple(policy_metrics(run, population, oracle, config) for run in simulation.runs)

    report = SimulationReport(
        log=str(log_path),
        seed=seed,
        max_users=max_users,
        model_version=model.version,
        policy_version=simulation.policy_version,
        policy_config=config,
        assumptions=population.assumptions,
        calibration=calibration,
        best_uniform_discount=simulation.best_uniform_discount,
        uniform_search=simulation.uniform_search,
        metrics=metrics,
    )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(report, out_dir / "simulation.json")
        write_plot(metrics, simulation.runs, out_dir / "simulation.png")
    except OSError as error:
        msg = f"cannot write the results to {out_dir}: {error}"
        raise click.ClickException(msg) from error

    click.echo("")
    click.echo(format_table(metrics))
    click.echo("")
    click.echo(f"wrote {out_dir / 'simulation.json'} and {out_dir / 'simulation.png'}")
