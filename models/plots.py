"""The loss-curve figure written next to a trained model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: training runs on servers and in CI

from matplotlib import pyplot  # noqa: E402

__all__ = ["plot_loss_curve"]


def plot_loss_curve(history: Sequence[Mapping[str, float]], path: Path, title: str) -> None:
    """Draw train and valid next-item loss and valid Recall@20 per epoch into a PNG."""
    epochs = [record["epoch"] for record in history]
    figure, (loss_axes, recall_axes) = pyplot.subplots(1, 2, figsize=(9, 3.5))
    loss_axes.plot(epochs, [r["train_item_loss"] for r in history], marker="o", label="train")
    loss_axes.plot(epochs, [r["valid_item_loss"] for r in history], marker="o", label="valid")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("next-item cross-entropy (nats)")
    loss_axes.legend()
    recall_axes.plot(epochs, [r["valid_recall@20"] for r in history], marker="o", color="C2")
    recall_axes.set_xlabel("epoch")
    recall_axes.set_ylabel("valid Recall@20")
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)
