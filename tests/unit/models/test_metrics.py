import itertools
import math

import numpy as np
import pytest

from models.metrics import auc, calibration_table, log_loss, mrr_at, recall_at


def test_recall_and_mrr_at_cutoff() -> None:
    ranks = np.array([0, 1, 19, 20, 500])

    assert recall_at(ranks, 20) == pytest.approx(3 / 5)
    assert mrr_at(ranks, 20) == pytest.approx((1 + 1 / 2 + 1 / 20) / 5)


def test_metrics_of_no_targets_are_nan() -> None:
    empty = np.zeros(0, dtype=np.int64)

    assert math.isnan(recall_at(empty, 20))
    assert math.isnan(mrr_at(empty, 20))
    assert math.isnan(log_loss(empty, empty))


def test_auc_matches_pair_count_with_ties() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=40)
    scores = rng.integers(0, 6, size=40).astype(float)

    pairs = []
    for positive, negative in itertools.product(scores[labels == 1], scores[labels == 0]):
        if positive > negative:
            pairs.append(1.0)
        elif positive == negative:
            pairs.append(0.5)
        else:
            pairs.append(0.0)

    assert auc(labels, scores) == pytest.approx(np.mean(pairs))


def test_auc_one_class_is_nan() -> None:
    assert math.isnan(auc(np.ones(4), np.arange(4.0)))


def test_log_loss_of_known_probabilities() -> None:
    labels = np.array([1.0, 0.0])
    probabilities = np.array([0.8, 0.4])

    assert log_loss(labels, probabilities) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_calibration_bins_count_and_rate() -> None:
    labels = np.array([0, 0, 1, 1, 1])
    probabilities = np.array([0.05, 0.08, 0.91, 0.95, 1.0])

    table = calibration_table(labels, probabilities)

    assert [row["count"] for row in table] == [2, 3]
    assert table[0]["observed_rate"] == 0.0
    assert table[1]["observed_rate"] == 1.0
    assert table[1]["mean_predicted"] == pytest.approx((0.91 + 0.95 + 1.0) / 3)
