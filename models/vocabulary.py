"""Item and category vocabularies: string ids to embedding rows, with reference prices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["OOV_INDEX", "CategoryVocabulary", "ItemVocabulary"]

# Row 0 of the item and category tables is shared by every id not seen in training.
OOV_INDEX = 0


@dataclass(frozen=True)
class ItemVocabulary:
    """Known items in embedding order; item ``item_ids[i]`` has row ``i + 1``.

    ``reference_prices[i]`` is the item's median list price in the training log (None when
    the log has no price for it) and ``categories[i]`` its most frequent category.
    """

    item_ids: tuple[str, ...]
    reference_prices: tuple[float | None, ...]
    categories: tuple[str | None, ...]
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (len(self.item_ids) == len(self.reference_prices) == len(self.categories)):
            msg = (
                "item_ids, reference_prices and categories must have the same length "
                f"(got {len(self.item_ids)}, {len(self.reference_prices)}, "
                f"{len(self.categories)})"
            )
            raise ValueError(msg)
        index = {item_id: row + 1 for row, item_id in enumerate(self.item_ids)}
        if len(index) != len(self.item_ids):
            msg = f"item_ids must be unique ({len(self.item_ids) - len(index)} duplicates)"
            raise ValueError(msg)
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.item_ids)

    def index(self, item_id: str) -> int:
        """Return the embedding row of ``item_id``, OOV_INDEX when it is unknown."""
        return self._index.get(item_id, OOV_INDEX)

    def reference_price(self, row: int) -> float | None:
        """Return the reference price of embedding row ``row`` (None for the OOV row)."""
        return None if row == OOV_INDEX else self.reference_prices[row - 1]

    def to_json(self) -> dict[str, list[str | float | None]]:
        """Return a JSON-ready mapping of the three columns."""
        return {
            "item_ids": list(self.item_ids),
            "reference_prices": list(self.reference_prices),
            "categories": list(self.categories),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[object]]) -> ItemVocabulary:
        """Rebuild a vocabulary from the mapping written by to_json."""
        return cls(
            item_ids=tuple(str(value) for value in data["item_ids"]),
            reference_prices=tuple(
                None if value is None else float(value)  # type: ignore[arg-type]
                for value in data["reference_prices"]
            ),
            categories=tuple(None if value is None else str(value) for value in data["categories"]),
        )


@dataclass(frozen=True)
class CategoryVocabulary:
    """Known categories in embedding order; ``names[i]`` has row ``i + 1``."""

    names: tuple[str, ...]
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {name: row + 1 for row, name in enumerate(self.names)})

    def __len__(self) -> int:
        return len(self.names)

    def index(self, category: str | None) -> int:
        """Return the embedding row of ``category``, OOV_INDEX when unknown or None."""
        if category is None:
            return OOV_INDEX
        return self._index.get(category, OOV_INDEX)
