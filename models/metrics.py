"""Ranking and probability metrics on numpy arrays: Recall@K, MRR@K, log-loss, AUC."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["auc", "calibration_table", "log_loss", "mrr_at", "recall_at"]


def recall_at(ranks: np.ndarray, k: int) -> float:
    """Share of targets ranked in the top ``k`` (rank 0 is best); NaN for no targets."""
    if len(ranks) == 0:
        return math.nan
    return float(np.mean(ranks < k))


def mrr_at(ranks: np.ndarray, k: int) -> float:
    """Mean reciprocal rank counting only targets in the top ``k``; NaN for no targets."""
    if len(ranks) == 0:
        return math.nan
    reciprocal = np.where(ranks < k, 1.0 / (ranks.astype(np.float64) + 1.0), 0.0)
    return float(np.mean(reciprocal))


def log_loss(labels: np.ndarray, probabilities: np.ndarray, epsilon: float = 1e-7) -> float:
    """Mean binary cross-entropy in nats, probabilities clipped to [epsilon, 1 - epsilon]."""
    if len(labels) == 0:
        return math.nan
    clipped = np.clip(probabilities.astype(np.float64), epsilon, 1.0 - epsilon)
    return float(-np.mean(labels * np.log(clipped) + (1.0 - labels) * np.log(1.0 - clipped)))


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties count half); NaN with one class."""
    positives = int(np.sum(labels == 1))
    negatives = int(np.sum(labels == 0))
    if positives == 0 or negatives == 0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    # Average the 1-based ranks within each run of equal scores.
    while start < len(scores):
        stop = start
        while stop + 1 < len(scores) and sorted_scores[stop + 1] == sorted_scores[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2.0 + 1.0
        start = stop + 1
    positive_rank_sum = float(np.sum(ranks[labels == 1]))
    return (positive_rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def calibration_table(
    labels: np.ndarray, probabilities: np.ndarray, bins: int = 10
) -> list[dict[str, float]]:
    """Mean predicted probability and observed rate in equal-width bins of [0, 1].

    Empty bins are left out.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    rows = []
    for bin_index in range(bins):
        members = index == bin_index
        count = int(np.sum(members))
        if count == 0:
            continue
        rows.append(
            {
                "low": float(edges[bin_index]),
                "high": float(edges[bin_index + 1]),
                "count": count,
                "mean_predicted": float(np.mean(probabilities[members])),
                "observed_rate": float(np.mean(labels[members])),
            }
        )
    return rows
