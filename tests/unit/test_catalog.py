from __future__ import annotations

import math

from app.catalog import CatalogItem, ItemCatalog
from app.user_state import TimedPrice, UserState


def _catalog() -> ItemCatalog:
    return ItemCatalog(
        [
            CatalogItem("a", 10.0, "c1"),
            CatalogItem("b", None, "c2"),
            CatalogItem("c", math.nan, None),
            CatalogItem("d", 0.0, None),
        ]
    )


def test_catalog_reference_price_for_new_user() -> None:
    assert _catalog().list_price("a") == 10.0
    assert _catalog().list_price("a", UserState()) == 10.0


def test_catalog_price_user_saw_wins() -> None:
    state = UserState(seen_prices={"a": TimedPrice(8.5, 0), "b": TimedPrice(3.0, 0)})

    assert _catalog().list_price("a", state) == 8.5
    assert _catalog().list_price("b", state) == 3.0


def test_catalog_unknown_or_unusable_price_none() -> None:
    catalog = _catalog()

    assert catalog.list_price("b") is None
    assert catalog.list_price("c") is None
    assert catalog.list_price("d") is None
    assert catalog.list_price("zzz") is None


def test_catalog_one_user_does_not_change_another() -> None:
    catalog = _catalog()
    saw_low = UserState(seen_prices={"a": TimedPrice(1.0, 0)})

    catalog.list_price("a", saw_low)

    assert catalog.list_price("a", UserState()) == 10.0
    assert catalog.get("a") == CatalogItem("a", 10.0, "c1")
