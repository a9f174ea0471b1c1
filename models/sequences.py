"""Event sequences for training and evaluation: time split, vocabulary and encoding.

Every log is split by event time into train, valid and test parts. The vocabulary,
reference prices and feature statistics come from the train part only. A sequence read for
part P is cut after P's last event, and a position counts for P when its target lies in P,
so no label or input crosses into a later part.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from models.features import (
    DENSE_FEATURE_NAMES,
    FeatureStats,
    dense_features,
    event_type_index,
)
from models.gru import EventBatch
from models.logs import LogEvent
from models.vocabulary import OOV_INDEX, CategoryVocabulary, ItemVocabulary

__all__ = [
    "IGNORE_INDEX",
    "PARTS",
    "TEST",
    "TRAIN",
    "VALID",
    "EncodedSequence",
    "PaddedBatch",
    "TimeSplit",
    "build_vocabularies",
    "chunk",
    "encode_sequences",
    "group_sequences",
    "pad_batch",
]

PARTS = ("train", "valid", "test")
TRAIN, VALID, TEST = range(3)
IGNORE_INDEX = -100  # next-item target of positions without a usable target


@dataclass(frozen=True)
class TimeSplit:
    """Event-time boundaries: train before ``valid_start_s``, test from ``test_start_s``."""

    valid_start_s: float
    test_start_s: float

    @classmethod
    def by_fraction(
        cls,
        events: Sequence[LogEvent],
        valid_fraction: float,
        test_fraction: float,
        test_events: Sequence[LogEvent] = (),
    ) -> TimeSplit:
        """Cut at event-time quantiles; with ``test_events``, test starts at their first event.

        With ``test_events``, ``valid_fraction`` applies to ``events`` alone and
        ``test_fraction`` is unused.
        """
        times = sorted(event.time_s for event in events)
        if not times:
            msg = "the log has no events to split"
            raise ValueError(msg)

        def start_of_last(fraction: float) -> float:
            # The time of the first event in the latest `fraction` of events; events at
            # that same time also fall into the later part.
            index = min(len(times) - 1, len(times) - round(len(times) * fraction))
            return times[index] if fraction > 0 else math.inf

        if test_events:
            test_start = min(event.time_s for event in test_events)
            return cls(min(start_of_last(valid_fraction), test_start), test_start)
        return cls(
            valid_start_s=start_of_last(valid_fraction + test_fraction),
            test_start_s=start_of_last(test_fraction),
        )

    def part(self, time_s: float) -> int:
        """Return TRAIN, VALID or TEST for an event time."""
        if time_s < self.valid_start_s:
            return TRAIN
        return VALID if time_s < self.test_start_s else TEST


def group_sequences(events: Iterable[LogEvent]) -> list[list[LogEvent]]:
    """Group events by ``sequence_id`` and order each group by time (stable for ties)."""
    groups: dict[str, list[LogEvent]] = defaultdict(list)
    for event in events:
        groups[event.sequence_id].append(event)
    return [sorted(group, key=lambda event: event.time_s) for group in groups.values()]


def build_vocabularies(
    sequences: Iterable[Sequence[LogEvent]], split: TimeSplit, min_item_count: int = 1
) -> tuple[ItemVocabulary, CategoryVocabulary, FeatureStats]:
    """Collect items, categories and price statistics from the train part.

    Items are ordered by descending count (ties by id), so row order is reproducible.
    """
    counts: Counter[str] = Counter()
    prices: dict[str, list[float]] = defaultdict(list)
    item_categories: dict[str, Counter[str]] = defaultdict(Counter)
    category_counts: Counter[str] = Counter()
    log_prices: list[float] = []
    for sequence in sequences:
        for event in sequence:
            if split.part(event.time_s) != TRAIN:
                continue
            counts[event.item_id] += 1
            if event.price is not None:
                prices[event.item_id].append(event.price)
                log_prices.append(math.log(event.price))
            if event.category is not None:
                item_categories[event.item_id][event.category] += 1
                category_counts[event.category] += 1

    known_items = sorted(
        (item for item, count in counts.items() if count >= min_item_count),
        key=lambda item: (-counts[item], item),
    )
    items = ItemVocabulary(
        item_ids=tuple(known_items),
        reference_prices=tuple(
            statistics.median(prices[item]) if prices[item] else None for item in known_items
        ),
        categories=tuple(
            item_categories[item].most_common(1)[0][0] if item_categories[item] else None
            for item in known_items
        ),
    )
    categories = CategoryVocabulary(tuple(sorted(category_counts)))
    if len(log_prices) >= 2:
        stats = FeatureStats(
            log_price_mean=statistics.fmean(log_prices),
            log_price_std=max(statistics.pstdev(log_prices), 1e-3),
            has_prices=True,
        )
    else:
        stats = FeatureStats()
    return items, categories, stats


@dataclass(frozen=True)
class EncodedSequence:
    """One sequence as arrays of length T, with the targets of every position.

    ``next_item[t]`` is the row of event t+1, IGNORE_INDEX for the last event and for
    unknown items. ``next_part[t]`` is the part of event t+1, -1 for the last event.
    ``purchase_label[t]`` is 1.0 when the item of event t is purchased later in the same
    session and 0.0 when not. It is NaN when event t is itself a purchase or has no price.
    ``price_ratio[t]`` is log(price / reference price) of event t, and
    ``next_log_price[t]`` the standardised log price of event t+1 (NaN when unknown).
    """

    sequence_id: str
    items: np.ndarray  # (T,) int64
    event_types: np.ndarray  # (T,) int64
    categories: np.ndarray  # (T,) int64
    dense: np.ndarray  # (T, len(DENSE_FEATURE_NAMES)) float32
    parts: np.ndarray  # (T,) int64
    next_item: np.ndarray  # (T,) int64
    next_item_known: np.ndarray  # (T,) bool: event t+1 exists and its item is known
    next_part: np.ndarray  # (T,) int64
    purchase_label: np.ndarray  # (T,) float32
    price_ratio: np.ndarray  # (T,) float32
    next_log_price: np.ndarray  # (T,) float32
    next_is_purchase: np.ndarray  # (T,) bool
    prices: np.ndarray  # (T,) float64 list price of event t, NaN when unknown

    def __len__(self) -> int:
        return len(self.items)


def _purchase_labels(events: Sequence[LogEvent]) -> np.ndarray:
    labels = np.full(len(events), np.nan, dtype=np.float32)
    purchased_later: set[tuple[str, str]] = set()
    for position in range(len(events) - 1, -1, -1):
        event = events[position]
        key = (event.session_id, event.item_id)
        if event.event_type == "purchase":
            purchased_later.add(key)
        elif event.price is not None:
            labels[position] = 1.0 if key in purchased_later else 0.0
    return labels


def encode_sequences(
    sequences: Iterable[Sequence[LogEvent]],
    split: TimeSplit,
    last_part: int,
    items: ItemVocabulary,
    categories: CategoryVocabulary,
    stats: FeatureStats,
) -> list[EncodedSequence]:
    """Encode each sequence cut after part ``last_part``; drop sequences left empty."""
    encoded = []
    for full in sequences:
        events = [event for event in full if split.part(event.time_s) <= last_part]
        if not events:
            continue
        rows = np.array([items.index(event.item_id) for event in events], dtype=np.int64)
        dense = np.zeros((len(events), len(DENSE_FEATURE_NAMES)), dtype=np.float32)
        ratio = np.zeros(len(events), dtype=np.float32)
        previous_time: float | None = None
        for position, event in enumerate(events):
            gap = None if previous_time is None else event.time_s - previous_time
            previous_time = event.time_s
            features = dense_features(
                event.price, items.reference_price(int(rows[position])), gap, stats
            )
            dense[position] = features
            ratio[position] = features[0]
        parts = np.array([split.part(event.time_s) for event in events], dtype=np.int64)
        prices = np.array(
            [np.nan if event.price is None else event.price for event in events],
            dtype=np.float64,
        )
        next_item = np.full(len(events), IGNORE_INDEX, dtype=np.int64)
        next_item[:-1] = np.where(rows[1:] == OOV_INDEX, IGNORE_INDEX, rows[1:])
        next_exists = np.zeros(len(events), dtype=bool)
        next_exists[:-1] = True
        next_part = np.full(len(events), -1, dtype=np.int64)
        next_part[:-1] = parts[1:]
        next_log_price = np.full(len(events), np.nan, dtype=np.float32)
        if stats.has_prices:
            standardised = (np.log(prices[1:]) - stats.log_price_mean) / stats.log_price_std
            next_log_price[:-1] = standardised
        next_is_purchase = np.zeros(len(events), dtype=bool)
        next_is_purchase[:-1] = [event.event_type == "purchase" for event in events[1:]]
        encoded.append(
            EncodedSequence(
                sequence_id=events[0].sequence_id,
                items=rows,
                event_types=np.array(
                    [event_type_index(event.event_type) for event in events], dtype=np.int64
                ),
                categories=np.array(
                    [categories.index(event.category) for event in events], dtype=np.int64
                ),
                dense=dense,
                parts=parts,
                next_item=next_item,
                next_item_known=next_exists & (next_item != IGNORE_INDEX),
                next_part=next_part,
                purchase_label=_purchase_labels(events)
                if stats.has_prices
                else np.full(len(events), np.nan, dtype=np.float32),
                price_ratio=ratio,
                next_log_price=next_log_price,
                next_is_purchase=next_is_purchase,
                prices=prices,
            )
        )
    return encoded


@dataclass(frozen=True)
class PaddedBatch:
    """Sequences padded to a common length T, with per-position targets and masks."""

    inputs: EventBatch
    lengths: torch.Tensor  # (B,) int64
    next_item: torch.Tensor  # (B, T) int64, IGNORE_INDEX where no target
    next_part: torch.Tensor  # (B, T) int64, -1 where no target
    parts: torch.Tensor  # (B, T) int64, -1 on padding
    purchase_label: torch.Tensor  # (B, T) float32, NaN where undefined
    price_ratio: torch.Tensor  # (B, T) float32
    next_log_price: torch.Tensor  # (B, T) float32, NaN where unknown


def pad_batch(sequences: Sequence[EncodedSequence]) -> PaddedBatch:
    """Stack sequences into tensors of shape (B, T), padding with ignored positions."""
    length = max(len(sequence) for sequence in sequences)
    size = len(sequences)

    def stack(name: str, fill: float, dtype: type[np.generic]) -> torch.Tensor:
        out = np.full((size, length), fill, dtype=dtype)
        for row, sequence in enumerate(sequences):
            values = getattr(sequence, name)
            out[row, : len(values)] = values
        return torch.from_numpy(out)

    dense = np.zeros((size, length, len(DENSE_FEATURE_NAMES)), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        dense[row, : len(sequence)] = sequence.dense
    return PaddedBatch(
        inputs=EventBatch(
            items=stack("items", OOV_INDEX, np.int64),
            event_types=stack("event_types", 0, np.int64),
            categories=stack("categories", OOV_INDEX, np.int64),
            dense=torch.from_numpy(dense),
        ),
        lengths=torch.tensor([len(sequence) for sequence in sequences], dtype=torch.int64),
        next_item=stack("next_item", IGNORE_INDEX, np.int64),
        next_part=stack("next_part", -1, np.int64),
        parts=stack("parts", -1, np.int64),
        purchase_label=stack("purchase_label", np.nan, np.float32),
        price_ratio=stack("price_ratio", 0.0, np.float32),
        next_log_price=stack("next_log_price", np.nan, np.float32),
    )


def chunk(sequence: EncodedSequence, max_length: int) -> list[EncodedSequence]:
    """Cut a sequence into consecutive pieces of at most ``max_length`` events."""
    if len(sequence) <= max_length:
        return [sequence]
    pieces = []
    for start in range(0, len(sequence), max_length):
        stop = start + max_length
        fields: dict[str, Any] = {
            name: value[start:stop] if isinstance(value, np.ndarray) else value
            for name, value in vars(sequence).items()
        }
        pieces.append(EncodedSequence(**fields))
    return pieces
