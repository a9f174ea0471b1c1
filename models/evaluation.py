"""Offline evaluation of a trained GRU against baselines on the same time split.

Next-item positions of part P are the events of P that have a previous event in the same
sequence. The target is that event's item, and the history is everything before it, from
any earlier part. A target outside the training vocabulary counts as a miss for every
method.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional

from models.gru import SequenceNet
from models.logs import LogEvent
from models.metrics import auc, calibration_table, log_loss, mrr_at, recall_at
from models.sequences import (
    IGNORE_INDEX,
    TRAIN,
    EncodedSequence,
    PaddedBatch,
    TimeSplit,
    pad_batch,
)
from models.vocabulary import OOV_INDEX, ItemVocabulary

__all__ = [
    "NextItemResult",
    "co_occurrence_ranks",
    "gru_next_item",
    "gru_purchase_and_price",
    "most_popular_ranks",
    "next_item_summary",
    "repeat_targets",
    "price_baselines",
]

CUTOFF = 20


@dataclass(frozen=True)
class NextItemResult:
    """Ranks of the targets of one part (0 = best; a miss has rank num_items) and the loss.

    ``ranks_without_previous`` ranks each target with the previous event's item removed
    from the list, as the pricing engine removes the item the user is looking at.
    """

    ranks: np.ndarray
    ranks_without_previous: np.ndarray
    cross_entropy: float = math.nan  # mean over targets in the vocabulary, nats


def _batches(
    sequences: Sequence[EncodedSequence], batch_size: int
) -> Iterator[tuple[PaddedBatch, Sequence[EncodedSequence]]]:
    for start in range(0, len(sequences), batch_size):
        chosen = sequences[start : start + batch_size]
        yield pad_batch(chosen), chosen


def gru_next_item(
    net: SequenceNet, sequences: Sequence[EncodedSequence], part: int, batch_size: int = 128
) -> NextItemResult:
    """Rank every target of ``part`` among all known items with the GRU's next-item head."""
    miss = net.config.num_items
    ranks: list[np.ndarray] = []
    ranks_without_previous: list[np.ndarray] = []
    losses: list[float] = []
    net.eval()
    with torch.no_grad():
        for batch, _ in _batches(sequences, batch_size):
            states, _ = net(batch.inputs)  # (B, T, H)
            positions = batch.next_part == part  # (B, T)
            if not bool(positions.any()):
                continue
            logits = net.item_logits(states[positions])  # (N, V + 1)
            logits[:, OOV_INDEX] = -torch.inf
            targets = batch.next_item[positions]  # (N,)
            known = targets != IGNORE_INDEX
            previous = batch.inputs.items[positions]  # (N,)
            batch_ranks = torch.full(targets.shape, miss, dtype=torch.int64)
            batch_ranks_without = batch_ranks.clone()
            if bool(known.any()):
                known_logits = logits[known]
                known_targets = targets[known]
                target_logits = known_logits.gather(1, known_targets.unsqueeze(1))  # (K, 1)
                batch_ranks[known] = (known_logits > target_logits).sum(dim=1)
                known_previous = previous[known]
                previous_logits = known_logits.gather(1, known_previous.unsqueeze(1))
                previous_ahead = (
                    (known_previous != OOV_INDEX)
                    & (known_previous != known_targets)
                    & (previous_logits > target_logits).squeeze(1)
                )
                batch_ranks_without[known] = batch_ranks[known] - previous_ahead.long()
                loss = functional.cross_entropy(known_logits, known_targets, reduction="sum")
                losses.append(float(loss))
            ranks.append(batch_ranks.numpy())
            ranks_without_previous.append(batch_ranks_without.numpy())
    all_ranks = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    targets_in_vocabulary = sum(
        int(np.sum((sequence.next_part == part) & sequence.next_item_known))
        for sequence in sequences
    )
    cross_entropy = sum(losses) / targets_in_vocabulary if targets_in_vocabulary else math.nan
    return NextItemResult(
        ranks=all_ranks,
        ranks_without_previous=(
            np.concatenate(ranks_without_previous) if ranks else np.zeros(0, dtype=np.int64)
        ),
        cross_entropy=cross_entropy,
    )


def repeat_targets(sequences: Sequence[EncodedSequence], part: int) -> np.ndarray:
    """Return, per position of ``part``, whether the target repeats the previous item."""
    previous, targets = _target_rows(sequences, part)
    return (targets == previous) & (targets != IGNORE_INDEX)


def _target_rows(sequences: Sequence[EncodedSequence], part: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (previous item row, target row or IGNORE_INDEX) for every position of ``part``."""
    previous, targets = [], []
    for sequence in sequences:
        positions = np.flatnonzero(sequence.next_part == part)
        previous.append(sequence.items[positions])
        targets.append(sequence.next_item[positions])
    if not previous:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(previous), np.concatenate(targets)


def _popularity(
    sequences: Sequence[Sequence[LogEvent]], split: TimeSplit, items: ItemVocabulary
) -> np.ndarray:
    counts = np.zeros(len(items) + 1, dtype=np.float64)
    for sequence in sequences:
        for event in sequence:
            if split.part(event.time_s) == TRAIN:
                counts[items.index(event.item_id)] += 1
    counts[OOV_INDEX] = 0.0
    return counts


def _rank_pair(scores: np.ndarray, target: int, previous: int, miss: int) -> tuple[int, int]:
    """Return the target's rank with and without the previous item in the list."""
    if target == IGNORE_INDEX:
        return miss, miss
    rank = int(np.sum(scores > scores[target]))
    previous_ahead = previous not in (OOV_INDEX, target) and scores[previous] > scores[target]
    return rank, rank - int(previous_ahead)


def _result(pairs: list[tuple[int, int]]) -> NextItemResult:
    array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return NextItemResult(ranks=array[:, 0], ranks_without_previous=array[:, 1])


def most_popular_ranks(
    raw: Sequence[Sequence[LogEvent]],
    encoded: Sequence[EncodedSequence],
    split: TimeSplit,
    items: ItemVocabulary,
    part: int,
) -> NextItemResult:
    """Rank targets by train-part item counts; ties go to the lower vocabulary row."""
    counts = _popularity(raw, split, items)
    # A tiny row-dependent tie-breaker gives every item a distinct score.
    scores = counts - np.arange(len(counts)) * 1e-9
    scores[OOV_INDEX] = -np.inf
    previous, targets = _target_rows(encoded, part)
    pairs = [
        _rank_pair(scores, int(target), int(last), len(items))
        for last, target in zip(previous, targets, strict=True)
    ]
    return _result(pairs)


def co_occurrence_ranks(
    raw: Sequence[Sequence[LogEvent]],
    encoded: Sequence[EncodedSequence],
    split: TimeSplit,
    items: ItemVocabulary,
    part: int,
) -> NextItemResult:
    """Rank targets by item-to-item cosine similarity to the previous item (item-kNN).

    Similarity is ``c(i, j) / sqrt(n(i) n(j))`` where ``n`` counts train-part sessions
    holding an item and ``c`` sessions holding both, so an item's similarity to itself is
    1 and a repeat of the previous item ranks first. Popularity breaks ties, so items
    without co-occurrence fall back to the most-popular order.
    """
    sessions: dict[str, set[int]] = defaultdict(set)
    for sequence in raw:
        for event in sequence:
            if split.part(event.time_s) == TRAIN:
                row = items.index(event.item_id)
                if row != OOV_INDEX:
                    sessions[event.session_id].add(row)
    occurrences: Counter[int] = Counter()
    pairs: dict[int, Counter[int]] = defaultdict(Counter)
    for members in sessions.values():
        occurrences.update(members)
        for first in members:
            for second in members:
                pairs[first][second] += 1

    popularity = _popularity(raw, split, items)
    base = popularity / max(popularity.max(), 1.0) * 1e-6 - np.arange(len(popularity)) * 1e-12
    base[OOV_INDEX] = -np.inf
    previous, targets = _target_rows(encoded, part)
    rank_pairs = []
    for last, target in zip(previous, targets, strict=True):
        scores = base.copy()
        neighbours = pairs.get(int(last))
        if neighbours:
            rows = np.fromiter(neighbours.keys(), dtype=np.int64)
            together = np.fromiter(neighbours.values(), dtype=np.float64)
            alone = np.array([occurrences[int(row)] for row in rows], dtype=np.float64)
            scores[rows] += together / np.sqrt(alone * occurrences[int(last)])
        rank_pairs.append(_rank_pair(scores, int(target), int(last), len(items)))
    return _result(rank_pairs)


def next_item_summary(ranks: np.ndarray) -> dict[str, float]:
    """Return Recall@20, MRR@20 and the number of targets."""
    return {
        "recall@20": recall_at(ranks, CUTOFF),
        "mrr@20": mrr_at(ranks, CUTOFF),
        "targets": int(len(ranks)),
    }


def gru_purchase_and_price(
    net: SequenceNet,
    sequences: Sequence[EncodedSequence],
    part: int,
    log_price_mean: float,
    log_price_std: float,
    batch_size: int = 128,
) -> dict[str, dict[str, Any]]:
    """Score the purchase head (log-loss, AUC, calibration) and the price-level head (MAE).

    Purchase positions: events of ``part`` with a defined purchase label. Price positions:
    events of ``part`` that come right before a priced purchase.
    """
    labels, probabilities, predicted_prices, paid_prices = [], [], [], []
    net.eval()
    with torch.no_grad():
        for batch, _ in _batches(sequences, batch_size):
            states, _ = net(batch.inputs)
            heads = net.heads(states)  # each (B, T)
            purchase_positions = (batch.parts == part) & ~torch.isnan(batch.purchase_label)
            logits = heads.intercept + heads.slope * batch.price_ratio
            labels.append(batch.purchase_label[purchase_positions].numpy())
            probabilities.append(torch.sigmoid(logits[purchase_positions]).numpy())
    label_array = np.concatenate(labels) if labels else np.zeros(0)
    probability_array = np.concatenate(probabilities) if probabilities else np.zeros(0)

    with torch.no_grad():
        for batch, chosen in _batches(sequences, batch_size):
            states, _ = net(batch.inputs)
            heads = net.heads(states)
            for row, sequence in enumerate(chosen):
                positions = np.flatnonzero(
                    (sequence.next_part == part)
                    & sequence.next_is_purchase
                    & ~np.isnan(sequence.next_log_price)
                )
                for position in positions:
                    log_price = float(heads.log_price[row, position])
                    predicted_prices.append(math.exp(log_price * log_price_std + log_price_mean))
                    paid_prices.append(float(sequence.prices[position + 1]))
    predicted = np.array(predicted_prices)
    paid = np.array(paid_prices)
    return {
        "purchase": {
            "positions": int(len(label_array)),
            "positives": int(np.sum(label_array == 1)),
            "log_loss": log_loss(label_array, probability_array),
            "auc": auc(label_array, probability_array),
            "calibration": calibration_table(label_array, probability_array),
        },
        "price": {
            "purchases": int(len(paid)),
            "mae": float(np.mean(np.abs(predicted - paid))) if len(paid) else math.nan,
        },
    }


def price_baselines(
    encoded: Sequence[EncodedSequence], part: int, train_mean_paid: float
) -> dict[str, float]:
    """MAE of two price guesses at the purchases of ``part``.

    ``running_mean_paid``: the mean price of the user's earlier purchases, the train-part
    mean paid price when there are none. ``last_seen_price``: the price of the event just
    before the purchase.
    """
    running_errors, last_errors = [], []
    for sequence in encoded:
        paid_so_far: list[float] = []
        for position in range(len(sequence)):
            price = sequence.prices[position]
            is_purchase = position > 0 and bool(sequence.next_is_purchase[position - 1])
            if is_purchase and not math.isnan(price) and sequence.parts[position] == part:
                guess = float(np.mean(paid_so_far)) if paid_so_far else train_mean_paid
                running_errors.append(abs(guess - price))
                previous = sequence.prices[position - 1]
                last_seen = train_mean_paid if math.isnan(previous) else previous
                last_errors.append(abs(last_seen - price))
            if is_purchase and not math.isnan(price):
                paid_so_far.append(float(price))
    return {
        "running_mean_paid_mae": float(np.mean(running_errors)) if running_errors else math.nan,
        "last_seen_price_mae": float(np.mean(last_errors)) if last_errors else math.nan,
    }
