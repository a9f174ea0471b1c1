"""Shared fixtures: settings pointing at the local broker and unique topic names."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from app.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("PRICESTREAM_SHARED_DATA", REPO.parent / "shared" / "data"))


def _broker_reachable(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker_settings() -> Settings:
    """Settings for the broker the test run uses; fails loudly when it is down."""
    settings = Settings.from_env()
    if not _broker_reachable(settings.bootstrap_servers):
        pytest.fail(
            f"no Kafka broker at {settings.bootstrap_servers}; start it with "
            "`deploy/kafka/broker.sh start`, or deselect these tests with -m 'not kafka'"
        )
    return settings


@pytest.fixture
def unique_suffix() -> str:
    """A short random suffix so each test gets its own topics and consumer groups."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared folder of real public event logs; fails when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder not found at {SHARED_DATA}; set PRICESTREAM_SHARED_DATA")
    return SHARED_DATA
