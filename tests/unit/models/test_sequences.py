import math

import numpy as np
import pytest

from models.logs import LogEvent
from models.sequences import (
    IGNORE_INDEX,
    TEST,
    TRAIN,
    VALID,
    TimeSplit,
    build_vocabularies,
    encode_sequences,
    group_sequences,
)
from models.vocabulary import OOV_INDEX


def _event(
    user: str, time_s: float, item: str, kind: str = "view", price: float | None = 10.0
) -> LogEvent:
    return LogEvent(user, f"{user}-s", time_s, kind, item, price, "cat" if price else None)


def _log() -> list[LogEvent]:
    return [
        _event("u1", 1, "a", price=10.0),
        _event("u1", 2, "b", price=20.0),
        _event("u1", 3, "a", "cart", price=12.0),
        _event("u1", 4, "a", "purchase", price=12.0),
        _event("u2", 5, "b", price=30.0),
        _event("u2", 6, "c", price=None),
        _event("u1", 7, "b"),
        _event("u2", 8, "d"),
        _event("u1", 9, "new-in-test"),
        _event("u2", 10, "a"),
    ]


def test_split_by_fraction_cuts_at_quantiles() -> None:
    split = TimeSplit.by_fraction(_log(), valid_fraction=0.2, test_fraction=0.2)

    parts = [split.part(event.time_s) for event in _log()]

    assert parts == [TRAIN] * 6 + [VALID] * 2 + [TEST] * 2


def test_split_with_test_log_starts_test_at_its_first_event() -> None:
    test_events = [_event("u3", 20, "a"), _event("u3", 15, "b")]

    split = TimeSplit.by_fraction(_log(), 0.2, 0.5, test_events)

    assert split.test_start_s == 15
    assert split.part(10) == VALID
    assert split.part(8) == TRAIN


def test_vocabulary_from_train_part_only() -> None:
    sequences = group_sequences(_log())
    split = TimeSplit(valid_start_s=7, test_start_s=9)

    items, categories, stats = build_vocabularies(sequences, split)

    assert set(items.item_ids) == {"a", "b", "c"}
    assert items.item_ids[0] == "a"  # most frequent first
    assert items.index("d") == OOV_INDEX
    assert items.reference_price(items.index("a")) == 12.0
    assert items.reference_price(items.index("c")) is None
    assert categories.names == ("cat",)
    assert stats.has_prices
    assert stats.log_price_mean == pytest.approx(np.mean(np.log([10.0, 20.0, 12.0, 12.0, 30.0])))


def test_train_encoding_excludes_later_parts() -> None:
    sequences = group_sequences(_log())
    split = TimeSplit(valid_start_s=7, test_start_s=9)
    items, categories, stats = build_vocabularies(sequences, split)

    train = encode_sequences(sequences, split, TRAIN, items, categories, stats)
    valid = encode_sequences(sequences, split, VALID, items, categories, stats)

    assert sum(len(sequence) for sequence in train) == 6
    assert all(np.all(sequence.parts == TRAIN) for sequence in train)
    assert all(np.all(sequence.next_part[:-1] == TRAIN) for sequence in train)
    assert sum(len(sequence) for sequence in valid) == 8
    assert max(int(sequence.parts.max()) for sequence in valid) == VALID


def test_targets_and_purchase_labels() -> None:
    sequences = group_sequences(_log())
    split = TimeSplit(valid_start_s=100, test_start_s=200)
    items, categories, stats = build_vocabularies(sequences, split)

    (user1, _) = encode_sequences(sequences, split, TEST, items, categories, stats)

    assert user1.sequence_id == "u1"
    assert list(user1.next_item[:3]) == [items.index("b"), items.index("a"), items.index("a")]
    assert user1.next_item[-1] == IGNORE_INDEX
    # "a" is bought later in the session after its view and its cart; "b" never is.
    assert list(user1.purchase_label[:3]) == [1.0, 0.0, 1.0]
    assert math.isnan(user1.purchase_label[3])  # the purchase itself has no label
    assert bool(user1.next_is_purchase[2])
    assert user1.dense[0][4] == 1.0  # first event flag
    assert user1.dense[1][4] == 0.0
