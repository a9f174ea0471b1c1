"""Contract tests every StateStore implementation must pass.

To check another implementation, add a factory for it to STORE_FACTORIES.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.state_store import InMemoryStateStore, StateStore

STORE_FACTORIES: dict[str, Callable[[], StateStore]] = {
    "in-memory": InMemoryStateStore,
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest) -> StateStore:
    return STORE_FACTORIES[request.param]()


def test_state_store_satisfies_protocol(store: StateStore) -> None:
    assert isinstance(store, StateStore)


def test_state_store_unknown_user_none(store: StateStore) -> None:
    assert store.get("nobody") is None


def test_state_store_set_then_get(store: StateStore) -> None:
    store.set("u1", b"\x00\xffstate")

    assert store.get("u1") == b"\x00\xffstate"


def test_state_store_set_replaces(store: StateStore) -> None:
    store.set("u1", b"old")

    store.set("u1", b"new")

    assert store.get("u1") == b"new"


def test_state_store_users_independent(store: StateStore) -> None:
    store.set("u1", b"one")
    store.set("u2", b"two")

    assert store.get("u1") == b"one"
    assert store.get("u2") == b"two"


def test_state_store_unicode_user_id(store: StateStore) -> None:
    store.set("usér-ü", b"x")

    assert store.get("usér-ü") == b"x"
    assert store.get("user-u") is None


def test_state_store_large_value(store: StateStore) -> None:
    value = bytes(range(256)) * 256

    store.set("u1", value)

    assert store.get("u1") == value
