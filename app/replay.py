"""Embedded replay: run a recorded log through the pricing engine in this process."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from app.engine import Accepted, Duplicate, PricingEngine, Rejected
from app.log_sources import LogRecord
from app.source import Source

__all__ = ["ReplaySummary", "replay_embedded"]


@dataclass
class ReplaySummary:
    """Counts of one replay; every record read ends in exactly one of the three outcomes."""

    records: int = 0
    decisions: int = 0
    duplicates: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0

    @property
    def dead_letter_count(self) -> int:
        """Dead letters over all reasons."""
        return sum(self.dead_letters.values())

    @property
    def accounted(self) -> bool:
        """Whether decisions + dead letters + duplicates equals the records read."""
        return self.decisions + self.dead_letter_count + self.duplicates == self.records


def replay_embedded(
    records: Iterable[LogRecord],
    engine: PricingEngine,
    *,
    decisions_out: BinaryIO | None = None,
    dead_letters_out: BinaryIO | None = None,
    on_record: Callable[[], None] | None = None,
) -> ReplaySummary:
    """Process each record with ``engine``, writing decisions and dead letters as JSONL.

    A record's source is its file path as the topic, partition 0 and its line number as
    the offset. ``on_record`` is called after each record (for a progress bar).
    """
    summary = ReplaySummary()
    started = time.perf_counter()
    for record in records:
        source = Source(topic=record.path, partition=0, offset=record.line)
        outcome = engine.process(record.key, record.value, source)
        summary.records += 1
        if isinstance(outcome, Accepted):
            summary.decisions += 1
            if decisions_out is not None:
                decisions_out.write(outcome.value + b"\n")
        elif isinstance(outcome, Rejected):
            summary.dead_letters[outcome.dead_letter.reason] += 1
            if dead_letters_out is not None:
                dead_letters_out.write(outcome.value + b"\n")
        elif isinstance(outcome, Duplicate):
            summary.duplicates += 1
        if on_record is not None:
            on_record()
    summary.wall_s = time.perf_counter() - started
    return summary
