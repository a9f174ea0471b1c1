"""Readiness of a worker: events partitions assigned and table recovery done."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Readiness"]


class Readiness:
    """Track the rebalance lifecycle of one worker to decide whether it processes events.

    Kafka moves partitions between the workers of a group in a rebalance: the worker
    loses its partitions (revoked), gets a new set (assigned), rebuilds its tables for them
    from the changelog (recovery) and only then processes events. The worker is ready
    when it holds at least one partition of ``events_topic`` and recovery for the latest
    assignment is done. A worker of a group with more workers than partitions holds none
    and stays not ready, because it processes nothing.
    """

    def __init__(self, events_topic: str) -> None:
        self.events_topic = events_topic
        self._partitions: frozenset[int] = frozenset()
        self._recovered = False

    def partitions_assigned(self, assigned: Iterable[tuple[str, int]]) -> None:
        """Record a new assignment of (topic, partition) pairs.

        Leaves the recovery flag alone: it was cleared when the partitions were revoked,
        and Faust may finish recovery before it reports the assignment.
        """
        self._partitions = frozenset(
            partition for topic, partition in assigned if topic == self.events_topic
        )

    def partitions_revoked(self) -> None:
        """Record that the worker lost its partitions at the start of a rebalance."""
        self._partitions = frozenset()
        self._recovered = False

    def recovery_done(self) -> None:
        """Record that table recovery for the current assignment has completed."""
        self._recovered = True

    @property
    def partitions(self) -> frozenset[int]:
        """Partitions of the events topic assigned to this worker."""
        return self._partitions

    @property
    def recovered(self) -> bool:
        """Whether table recovery for the current assignment has completed."""
        return self._recovered

    @property
    def ready(self) -> bool:
        """Whether the worker has events partitions and has recovered their tables."""
        return self._recovered and bool(self._partitions)

    def describe(self) -> dict[str, object]:
        """Return the state as a JSON-ready mapping for the readiness endpoint."""
        return {
            "ready": self.ready,
            "recovered": self._recovered,
            "events_topic": self.events_topic,
            "partitions": sorted(self._partitions),
        }
