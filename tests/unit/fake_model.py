"""A small deterministic stand-in for SequenceModel, for engine tests that count steps."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence

import numpy as np

from models.serving import CatalogEntry, ModelEvent, PropensityCurve, UserScores

ITEMS = {
    "i1": (10.0, "c1"),
    "i2": (20.0, "c1"),
    "i3": (35.5, "c2"),
    "i4": (None, "c2"),
    "i5": (99.99, None),
}


def _event_vector(event: ModelEvent, size: int) -> np.ndarray:
    text = f"{event.item_id}|{event.event_type}|{event.price}|{event.seconds_since_previous}"
    digest = hashlib.sha256(text.encode()).digest()
    return np.frombuffer(digest[: 4 * size], dtype=np.uint32).astype(np.float32) / 2**32


class FakeModel:
    """Hidden state is a decaying sum of hashed events; scores and curve read from it."""

    hidden_size = 4

    def __init__(self, version: str = "fake-1", slope: float | None = None) -> None:
        self.version = version
        self.steps = 0
        self._slope = slope

    def initial_hidden(self, batch_size: int) -> np.ndarray:
        return np.zeros((batch_size, self.hidden_size), dtype=np.float32)

    def step(self, hidden: np.ndarray, events: Sequence[ModelEvent]) -> np.ndarray:
        self.steps += len(events)
        rows = [0.5 * hidden[b] + _event_vector(e, self.hidden_size) for b, e in enumerate(events)]
        return np.stack(rows).astype(np.float32)

    def score(
        self,
        hidden: np.ndarray,
        k: int = 20,
        exclude: Sequence[Collection[str]] | None = None,
    ) -> list[UserScores]:
        results = []
        for row in range(hidden.shape[0]):
            excluded = set(exclude[row]) if exclude is not None else set()
            weights = {
                item_id: float(np.cos(hidden[row][index % self.hidden_size] + index))
                for index, item_id in enumerate(ITEMS)
                if item_id not in excluded
            }
            ranked = sorted(weights.items(), key=lambda pair: -pair[1])[:k]
            slope = self._slope if self._slope is not None else -2.0 - 6.0 * float(hidden[row][1])
            results.append(
                UserScores(
                    item_ids=tuple(item_id for item_id, _ in ranked),
                    scores=tuple(score for _, score in ranked),
                    propensity=PropensityCurve(intercept=float(hidden[row][0]), slope=slope),
                    expected_price=10.0,
                )
            )
        return results

    def hidden_to_bytes(self, hidden_row: np.ndarray) -> bytes:
        return np.ascontiguousarray(hidden_row, dtype="<f4").tobytes()

    def hidden_from_bytes(self, data: bytes) -> np.ndarray:
        if len(data) != 4 * self.hidden_size:
            msg = f"hidden state must be {4 * self.hidden_size} bytes (got {len(data)})"
            raise ValueError(msg)
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def catalog(self) -> list[CatalogEntry]:
        return [
            CatalogEntry(item_id=item_id, reference_price=price, category=category)
            for item_id, (price, category) in ITEMS.items()
        ]
