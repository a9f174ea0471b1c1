"""`pricestream demo` runs the whole pipeline on a slice of the real sample."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings
from tests.conftest import REPO

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", *args],
        cwd=REPO,
        env={**os.environ, "PRICESTREAM_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )


def test_demo_accounts_for_every_record(broker_settings: Settings, shared_data: Path) -> None:
    log = shared_data / "rees46_multicategory_2019oct_head" / "2019-Oct_head_17434rows.csv"
    result = run_demo("--log", str(log), "--limit", "400", "--show", "2")

    assert result.returncode == 0, result.stderr[-3000:]
    counts = {
        name: int(number.replace(",", ""))
        for name, number in re.findall(
            r"^(records sent|decisions|dead letters|duplicates)\s+([\d,]+)",
            result.stdout,
            re.MULTILINE,
        )
    }
    assert counts["records sent"] == 400
    assert counts["decisions"] + counts["dead letters"] + counts["duplicates"] == 400
    assert counts["decisions"] > 350
    assert result.stdout.count("recommended:") == 2


def test_demo_missing_log_names_dataset(tmp_path: Path) -> None:
    result = run_demo("--log", str(tmp_path / "2019-Oct.csv"))

    assert result.returncode == 1
    assert f"demo log not found: {tmp_path / '2019-Oct.csv'}" in result.stderr
    assert "REES46" in result.stderr
    assert "--log" in result.stderr
