"""Read logs and split them by time, the common first step of training and evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.logs import LogEvent, read_logs
from models.sequences import TimeSplit, group_sequences

__all__ = ["Dataset", "load_dataset"]


@dataclass(frozen=True)
class Dataset:
    """User or session sequences from one or more logs, with the time split to apply."""

    sequences: list[list[LogEvent]]
    split: TimeSplit
    event_count: int


def load_dataset(
    logs: Sequence[Path],
    test_logs: Sequence[Path] = (),
    log_format: str | None = None,
    valid_fraction: float = 0.1,
    test_fraction: float = 0.1,
    max_events: int | None = None,
) -> Dataset:
    """Read ``logs`` (and ``test_logs``, whose events form the test part) and split them.

    ``max_events`` keeps the earliest events of ``logs`` by event time, for quick runs.
    """
    for name, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < value < 1.0:
            msg = f"{name!r} must be in (0, 1) (got {value})"
            raise ValueError(msg)
    if not test_logs and valid_fraction + test_fraction >= 1.0:
        msg = f"valid and test fractions must sum to < 1 (got {valid_fraction + test_fraction})"
        raise ValueError(msg)
    events = read_logs(logs, log_format)
    if max_events is not None:
        events = sorted(events, key=lambda event: event.time_s)[:max_events]
    test_events = read_logs(test_logs, log_format) if test_logs else []
    split = TimeSplit.by_fraction(events, valid_fraction, test_fraction, test_events)
    sequences = group_sequences([*events, *test_events])
    return Dataset(sequences, split, len(events) + len(test_events))
