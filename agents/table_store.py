"""The per-user state store backed by a Faust Table (RocksDB, changelogged)."""

from __future__ import annotations

from collections.abc import MutableMapping

__all__ = ["TableStateStore"]


class TableStateStore:
    """Adapt a Faust Table of raw bytes to the engine's StateStore protocol.

    Faust writes a table entry to the changelog partition of the record being processed.
    So get and set must only be called from inside the agent's stream loop, for the user
    whose record it is. The events topic is keyed by user id and co-partitioned with the table.
    """

    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self._table = table

    def get(self, user_id: str) -> bytes | None:
        """Return the stored state of ``user_id``, or None for a new user."""
        return self._table.get(user_id.encode())

    def set(self, user_id: str, value: bytes) -> None:
        """Store ``value`` as the state of ``user_id`` (written to the changelog too)."""
        self._table[user_id.encode()] = value
