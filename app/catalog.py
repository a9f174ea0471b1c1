"""Item catalog: the list price and category used to price a recommended item.

The catalog is read-only. It is seeded once from the model artifact's vocabulary
(reference price and category per item) and never changes while a worker runs.
Prices observed in events are not written back into it. They stay in the observing
user's own state (``UserState.seen_prices``), and an item's list price for one user's
decision is the price that user last saw for it, else the artifact's reference price.

Why there is no shared, event-fed catalog: with N workers, each consumes its own
partitions in its own order. A table updated from all users' events would make one
user's decision depend on how other users' partitions happen to interleave, so a Kafka
replay would no longer match the embedded one. Faust GlobalTables have also been
reported to loop in changelog recovery when several workers run. Keeping
observations per user (partitioned by the same key as the events) makes each decision
depend only on that user's own event stream, whatever the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.user_state import UserState

__all__ = ["CatalogItem", "ItemCatalog"]


@dataclass(frozen=True)
class CatalogItem:
    """Reference data for one item; ``reference_price`` is None when it is unknown."""

    item_id: str
    reference_price: float | None
    category: str | None


class ItemCatalog:
    """Read-only item reference data, with per-user list prices resolved from user state."""

    def __init__(self, items: Iterable[CatalogItem] = ()) -> None:
        self._items: dict[str, CatalogItem] = {}
        for item in items:
            price = item.reference_price
            usable = price is not None and math.isfinite(price) and price > 0
            self._items[item.item_id] = CatalogItem(
                item_id=item.item_id,
                reference_price=price if usable else None,
                category=item.category,
            )

    @classmethod
    def from_entries(cls, entries: Iterable[object]) -> ItemCatalog:
        """Build a catalog from objects with ``item_id``, ``reference_price`` and ``category``.

        This takes the model's ``SequenceModel.catalog()`` entries without importing models/.
        """
        return cls(
            CatalogItem(
                item_id=str(entry.item_id),  # type: ignore[attr-defined]
                reference_price=entry.reference_price,  # type: ignore[attr-defined]
                category=entry.category,  # type: ignore[attr-defined]
            )
            for entry in entries
        )

    def __len__(self) -> int:
        return len(self._items)

    def get(self, item_id: str) -> CatalogItem | None:
        """Return the catalog entry of ``item_id``, or None for an unknown item."""
        return self._items.get(item_id)

    def list_price(self, item_id: str, state: UserState | None = None) -> float | None:
        """Return the item's list price for one user, or None when it is unknown.

        The price this user last saw for the item wins over the artifact's reference price.
        """
        if state is not None:
            seen = state.seen_prices.get(item_id)
            if seen is not None:
                return seen.price
        item = self._items.get(item_id)
        return None if item is None else item.reference_price

    def reference_prices(self) -> Mapping[str, float | None]:
        """Return each item's reference price from the artifact."""
        return {item_id: item.reference_price for item_id, item in self._items.items()}
