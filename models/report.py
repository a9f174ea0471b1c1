"""The evaluation report: GRU and baselines on the test part, as JSON and a markdown table."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models.artifact import Artifact
from models.evaluation import (
    co_occurrence_ranks,
    gru_next_item,
    gru_purchase_and_price,
    most_popular_ranks,
    next_item_summary,
    price_baselines,
    repeat_targets,
)
from models.logs import LogEvent
from models.metrics import log_loss
from models.sequences import TEST, TRAIN, TimeSplit, encode_sequences

__all__ = ["evaluate_artifact", "markdown_report"]


def evaluate_artifact(
    artifact: Artifact, sequences: Sequence[Sequence[LogEvent]], split: TimeSplit
) -> dict[str, Any]:
    """Compute every figure of the report on the test part of ``split``."""
    encoded = encode_sequences(
        sequences, split, TEST, artifact.items, artifact.categories, artifact.stats
    )
    gru = gru_next_item(artifact.net, encoded, TEST)
    popular = most_popular_ranks(sequences, encoded, split, artifact.items, TEST)
    knn = co_occurrence_ranks(sequences, encoded, split, artifact.items, TEST)
    unknown_targets = int(sum(np.sum((s.next_part == TEST) & ~s.next_item_known) for s in encoded))
    repeats = repeat_targets(encoded, TEST)
    methods = {"gru": gru, "most_popular": popular, "item_knn": knn}
    report: dict[str, Any] = {
        "model_version": artifact.version,
        "split": {"valid_start_s": split.valid_start_s, "test_start_s": split.test_start_s},
        "test_targets": int(len(gru.ranks)),
        "test_targets_unknown_item": unknown_targets,
        "test_targets_repeating_previous_item": int(np.sum(repeats)),
        "next_item": {name: next_item_summary(result.ranks) for name, result in methods.items()},
        # Targets that differ from the previous item, ranked with that item removed.
        "next_new_item": {
            name: next_item_summary(result.ranks_without_previous[~repeats])
            for name, result in methods.items()
        },
    }
    if not artifact.stats.has_prices:
        return report

    heads = gru_purchase_and_price(
        artifact.net,
        encoded,
        TEST,
        artifact.stats.log_price_mean,
        artifact.stats.log_price_std,
    )
    train_encoded = encode_sequences(
        sequences, split, TRAIN, artifact.items, artifact.categories, artifact.stats
    )
    train_labels = np.concatenate([s.purchase_label for s in train_encoded])
    train_labels = train_labels[~np.isnan(train_labels)]
    base_rate = float(np.mean(train_labels)) if len(train_labels) else math.nan
    test_labels = np.concatenate([s.purchase_label for s in encoded])
    test_labels = test_labels[
        ~np.isnan(test_labels) & (np.concatenate([s.parts for s in encoded]) == TEST)
    ]
    heads["purchase"]["train_base_rate"] = base_rate
    heads["purchase"]["base_rate_log_loss"] = log_loss(
        test_labels, np.full(len(test_labels), base_rate)
    )
    paid = [
        float(s.prices[p + 1])
        for s in train_encoded
        for p in np.flatnonzero(s.next_is_purchase & (s.next_part == TRAIN))
        if not math.isnan(s.prices[p + 1])
    ]
    train_mean_paid = statistics.fmean(paid) if paid else math.nan
    heads["price"].update(price_baselines(encoded, TEST, train_mean_paid))
    report.update(heads)
    return report


def _figure(value: object, digits: int = 4) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def markdown_report(report: Mapping[str, Any], title: str) -> str:
    """Render the report's headline figures as markdown tables."""
    lines = [
        f"### {title}",
        "",
        f"Model `{report['model_version']}`; {report['test_targets']} test targets, "
        f"{report['test_targets_unknown_item']} of them items unseen in training "
        "(a miss for every method).",
        "",
        "| method | Recall@20 | MRR@20 | Recall@20, new items | MRR@20, new items |",
        "|---|---|---|---|---|",
    ]
    names = {"gru": "GRU", "most_popular": "most popular", "item_knn": "item-kNN (co-occurrence)"}
    for key, name in names.items():
        every = report["next_item"][key]
        new = report["next_new_item"][key]
        lines.append(
            f"| {name} | {_figure(every['recall@20'])} | {_figure(every['mrr@20'])} "
            f"| {_figure(new['recall@20'])} | {_figure(new['mrr@20'])} |"
        )
    new_targets = report["test_targets"] - report["test_targets_repeating_previous_item"]
    lines += [
        "",
        f'"New items": the {new_targets} targets that differ from the previous event\'s item, '
        "ranked with that item removed from every list, as the pricing engine never "
        "recommends the item being viewed.",
    ]
    purchase = report.get("purchase")
    if purchase is not None:
        lines += [
            "",
            "| purchase head | value |",
            "|---|---|",
            f"| positions (positives) | {purchase['positions']} ({purchase['positives']}) |",
            f"| log-loss | {_figure(purchase['log_loss'])} |",
            f"| log-loss of the train base rate | {_figure(purchase['base_rate_log_loss'])} |",
            f"| AUC | {_figure(purchase['auc'])} |",
            "",
            "| predicted probability bin | count | mean predicted | observed rate |",
            "|---|---|---|---|",
        ]
        for row in purchase["calibration"]:
            lines.append(
                f"| {row['low']:.1f}-{row['high']:.1f} | {row['count']} | "
                f"{row['mean_predicted']:.4f} | {row['observed_rate']:.4f} |"
            )
        price = report["price"]
        lines += [
            "",
            "| price level at purchase | MAE |",
            "|---|---|",
            f"| GRU price head | {_figure(price['mae'], 2)} |",
            f"| user's mean paid price so far | {_figure(price['running_mean_paid_mae'], 2)} |",
            f"| price of the event before the purchase | "
            f"{_figure(price['last_seen_price_mae'], 2)} |",
            "",
            f"{price['purchases']} test purchases with a price.",
        ]
    return "\n".join(lines) + "\n"
