"""The simulation's outputs: a text table, a JSON document and a PNG plot."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.pricing import PolicyConfig
from app.simulation.metrics import PolicyMetrics
from app.simulation.population import Calibration, PopulationAssumptions
from app.simulation.runner import PolicyRun

__all__ = ["SimulationReport", "format_table", "write_json", "write_plot"]


@dataclass(frozen=True)
class SimulationReport:
    """Everything one simulation produced, as written to JSON."""

    log: str
    seed: int
    max_users: int | None
    model_version: str
    policy_version: str
    policy_config: PolicyConfig
    assumptions: PopulationAssumptions
    calibration: Calibration
    best_uniform_discount: float
    uniform_search: tuple[tuple[float, float, float], ...]
    metrics: tuple[PolicyMetrics, ...]

    def to_document(self) -> dict[str, Any]:
        """Return the report as JSON-ready dicts and lists."""
        return {
            "log": self.log,
            "seed": self.seed,
            "max_users": self.max_users,
            "model_version": self.model_version,
            "policy_version": self.policy_version,
            "policy_config": asdict(self.policy_config),
            "assumptions": asdict(self.assumptions),
            "calibration": asdict(self.calibration),
            "best_uniform_discount": self.best_uniform_discount,
            "uniform_search": [
                {"discount": discount, "expected_revenue": expected, "revenue": realised}
                for discount, expected, realised in self.uniform_search
            ],
            "policies": [asdict(metrics) for metrics in self.metrics],
        }


def format_table(metrics: Sequence[PolicyMetrics]) -> str:
    """Return one line per policy with its main figures, aligned in columns."""
    header = (
        f"{'policy':<24} {'revenue':>10} {'expected':>10} {'% oracle':>8} {'buys':>5} "
        f"{'conv %':>6} {'disc %':>6} {'surplus':>9} {'spread %':>8} {'pers %':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in metrics:
        lines.append(
            f"{row.name:<24} {row.revenue:>10.0f} {row.expected_revenue:>10.0f} "
            f"{100 * row.oracle_expected_revenue_share:>8.1f} {row.purchases:>5d} "
            f"{100 * row.conversion:>6.2f} {100 * row.mean_discount:>6.1f} "
            f"{row.consumer_surplus:>9.0f} {100 * row.price_spread:>8.1f} "
            f"{100 * row.personalized_share:>6.1f}"
        )
    return "\n".join(lines)


def write_json(report: SimulationReport, path: Path) -> None:
    """Write the report as indented JSON to ``path``."""
    path.write_text(json.dumps(report.to_document(), indent=1) + "\n", encoding="utf-8")


def write_plot(metrics: Sequence[PolicyMetrics], runs: Sequence[PolicyRun], path: Path) -> None:
    """Plot revenue, conversion and the distribution of offered discounts per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [row.name for row in metrics]
    positions = list(range(len(names)))
    figure, (revenue_axes, conversion_axes, price_axes) = plt.subplots(
        1, 3, figsize=(16, 5), constrained_layout=True
    )

    width = 0.4
    revenue_axes.bar(
        [x - width / 2 for x in positions],
        [row.revenue for row in metrics],
        width,
        label="realised",
    )
    revenue_axes.bar(
        [x + width / 2 for x in positions],
        [row.expected_revenue for row in metrics],
        width,
        label="expected",
    )
    revenue_axes.set_title("Revenue per policy")
    revenue_axes.set_ylabel("revenue, in the currency of the log")
    revenue_axes.legend()

    conversion_axes.bar(
        [x - width / 2 for x in positions],
        [100 * row.conversion for row in metrics],
        width,
        label="realised",
    )
    conversion_axes.bar(
        [x + width / 2 for x in positions],
        [100 * row.expected_conversion for row in metrics],
        width,
        label="expected",
    )
    conversion_axes.set_title("Conversion per policy")
    conversion_axes.set_ylabel("purchases per (user, item) pair, %")
    conversion_axes.legend()

    for axes in (revenue_axes, conversion_axes):
        axes.set_xticks(positions, names, rotation=30, ha="right")

    # Discounts are whole percent or close to it, so 1-point bins show each level apart.
    discounts_by_run = [
        [100 * (1.0 - offer.price / offer.list_price) for offer in run.decisions] for run in runs
    ]
    top = max((max(values, default=0.0) for values in discounts_by_run), default=0.0)
    bins = [edge - 0.5 for edge in range(0, int(top) + 3)]
    for run, discounts in zip(runs, discounts_by_run, strict=True):
        weights = [100.0 / len(discounts)] * len(discounts) if discounts else None
        price_axes.hist(discounts, bins=bins, weights=weights, histtype="step", label=run.name)
    price_axes.set_yscale("log")
    price_axes.set_title("Offered discounts (deciding offers)")
    price_axes.set_xlabel("discount from list price, %")
    price_axes.set_ylabel("share of offers, % (log scale)")
    price_axes.legend(fontsize="small", loc="upper center")

    figure.savefig(path, dpi=100)
    plt.close(figure)
