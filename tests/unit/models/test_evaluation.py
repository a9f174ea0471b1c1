from models.evaluation import co_occurrence_ranks, most_popular_ranks, repeat_targets
from models.logs import LogEvent
from models.sequences import TEST, TimeSplit, build_vocabularies, encode_sequences, group_sequences


def _event(session: str, time_s: float, item: str) -> LogEvent:
    return LogEvent(session, session, time_s, "view", item, None, None)


def _dataset() -> tuple[list[list[LogEvent]], TimeSplit]:
    train = [
        _event("s1", 1, "x"), _event("s1", 2, "y"),
        _event("s2", 3, "x"), _event("s2", 4, "y"),
        _event("s3", 5, "z"), _event("s3", 6, "z"), _event("s3", 7, "z"),
        _event("s4", 8, "w"), _event("s4", 9, "x"),
    ]  # fmt: skip
    test = [
        _event("t1", 20, "x"), _event("t1", 21, "y"),
        _event("t2", 22, "w"), _event("t2", 23, "unseen"),
    ]  # fmt: skip
    return group_sequences(train + test), TimeSplit(valid_start_s=10, test_start_s=20)


def _encoded():  # noqa: ANN202
    sequences, split = _dataset()
    items, categories, stats = build_vocabularies(sequences, split)
    encoded = encode_sequences(sequences, split, TEST, items, categories, stats)
    return sequences, split, items, encoded


def test_most_popular_ranks_by_train_counts() -> None:
    sequences, split, items, encoded = _encoded()

    result = most_popular_ranks(sequences, encoded, split, items, TEST)

    # Train counts: x 3, z 3, y 2, w 1; x sorts before z by row. Targets: y, then unseen.
    assert list(result.ranks) == [2, len(items)]
    # Without the previous item x in the list, only z is ahead of y.
    assert list(result.ranks_without_previous) == [1, len(items)]


def test_item_knn_ranks_co_occurring_item_first() -> None:
    sequences, split, items, encoded = _encoded()

    result = co_occurrence_ranks(sequences, encoded, split, items, TEST)

    # After x, y co-occurred in two of x's three sessions; x itself has similarity 1.
    assert list(result.ranks) == [1, len(items)]
    assert list(result.ranks_without_previous) == [0, len(items)]


def test_repeat_targets_marks_same_item() -> None:
    sequences, split = _dataset()
    sequences.append([_event("t3", 30, "z"), _event("t3", 31, "z")])
    items, categories, stats = build_vocabularies(sequences, split)
    encoded = encode_sequences(sequences, split, TEST, items, categories, stats)

    assert list(repeat_targets(encoded, TEST)) == [False, False, True]
