"""deploy/kafka/broker.sh is idempotent and reports a running broker."""

from __future__ import annotations

import subprocess

import pytest

from app.settings import Settings
from tests.conftest import REPO

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]

BROKER_SCRIPT = REPO / "deploy" / "kafka" / "broker.sh"


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(BROKER_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def test_broker_second_start_is_noop(broker_settings: Settings) -> None:
    result = run_script("start")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout


def test_broker_status_reports_running(broker_settings: Settings) -> None:
    result = run_script("status")
    assert result.returncode == 0
    assert "running on 127.0.0.1" in result.stdout


def test_broker_unknown_command_prints_usage() -> None:
    result = run_script("launch")
    assert result.returncode == 2
    assert "usage:" in result.stderr


@pytest.mark.parametrize("missing", ["java", "mvn"])
def test_broker_missing_tool_named_in_error(missing: str, tmp_path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "cat", "sed", "head", "java", "mvn"):
        if tool != missing:
            source = subprocess.run(
                ["bash", "-c", f"command -v {tool}"], capture_output=True, text=True, check=True
            ).stdout.strip()
            (tools / tool).symlink_to(source)
    result = subprocess.run(
        [str(tools / "bash"), str(BROKER_SCRIPT), "classpath"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": str(tools), "PRICESTREAM_KAFKA_HOME": str(tmp_path / "kafka")},
    )
    assert result.returncode == 1
    assert f"{missing} not found on PATH" in result.stderr
