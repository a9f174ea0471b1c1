from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.decision import decode_decision
from tests.unit.test_replay import REES46_SAMPLE


@pytest.fixture(autouse=True)
def _default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRICESTREAM_MODEL_DIR", raising=False)


def test_replay_command_embedded_summary(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "decisions.jsonl"
    dead = tmp_path / "dead.jsonl"

    result = CliRunner().invoke(
        main,
        [
            "replay",
            str(shared_data / REES46_SAMPLE),
            "--to",
            "embedded",
            "--limit",
            "300",
            "--out",
            str(out),
            "--dead-letters",
            str(dead),
        ],
    )

    assert result.exit_code == 0, result.output
    assert "replayed 300 records from 1 log(s)" in result.output
    assert "every record accounted for exactly once: yes" in result.output
    decisions = [decode_decision(line) for line in out.read_bytes().splitlines()]
    dead_count = len(dead.read_bytes().splitlines())
    assert f"decisions:    {len(decisions)}" in result.output
    assert f"dead letters: {dead_count}" in result.output


def test_replay_command_unknown_layout_names_file(tmp_path: Path) -> None:
    log = tmp_path / "retail.csv"
    log.write_text("InvoiceNo,StockCode,Quantity\n1,2,3\n")

    result = CliRunner().invoke(main, ["replay", str(log)])

    assert result.exit_code == 1
    assert str(log) in result.output
    assert "event_time,event_type,product_id" in result.output


def test_replay_command_speed_needs_kafka(shared_data: Path) -> None:
    result = CliRunner().invoke(
        main, ["replay", str(shared_data / REES46_SAMPLE), "--to", "embedded", "--speed", "2"]
    )

    assert result.exit_code == 2
    assert "--speed applies to --to kafka only" in result.output


def test_replay_command_missing_file_rejected(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["replay", str(tmp_path / "nope.csv")])

    assert result.exit_code == 2
    assert "nope.csv" in result.output
