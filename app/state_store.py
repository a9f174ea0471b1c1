"""The per-user state store interface and its in-memory implementation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

__all__ = ["InMemoryStateStore", "StateStore"]


@runtime_checkable
class StateStore(Protocol):
    """Bytes per user id; the Kafka worker backs it with a changelogged Faust table."""

    def get(self, user_id: str) -> bytes | None:
        """Return the stored bytes for ``user_id``, or None when there are none."""
        ...

    def set(self, user_id: str, value: bytes) -> None:
        """Store ``value`` for ``user_id``, replacing what was there."""
        ...


class InMemoryStateStore:
    """A dict-backed StateStore for tests and the embedded replay."""

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    def get(self, user_id: str) -> bytes | None:
        """Return the stored bytes for ``user_id``, or None when there are none."""
        return self._values.get(user_id)

    def set(self, user_id: str, value: bytes) -> None:
        """Store ``value`` for ``user_id``, replacing what was there."""
        if not isinstance(value, bytes):
            msg = f"state value for user {user_id!r} must be bytes (got {type(value).__name__})"
            raise TypeError(msg)
        self._values[user_id] = value

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)
