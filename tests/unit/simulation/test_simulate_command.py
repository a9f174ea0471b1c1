"""`pricestream simulate`: an end-to-end run on a slice of the real sample, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from app.cli import main

REES46 = Path("rees46_multicategory_2019oct_head") / "2019-Oct_head_17434rows.csv"
POLICIES = ["list price", "pricestream", "pricestream + Thompson", "oracle"]


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)


def run_simulate(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["simulate", *arguments])
    return result.exit_code, result.output


def test_simulate_real_slice_writes_outputs(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    code, output = run_simulate(
        str(shared_data / REES46), "--seed", "3", "--out", str(out), "--max-users", "600"
    )

    assert code == 0, output
    for name in POLICIES:
        assert name in output
    document = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
    names = [policy["name"] for policy in document["policies"]]
    assert names[0] == "list price"
    assert names[1].startswith("uniform ")
    assert names[2:] == POLICIES[1:]
    assert document["seed"] == 3
    assert document["calibration"]["users"] <= 600
    assert document["calibration"]["logged_purchases"] > 0
    oracle = document["policies"][-1]
    assert oracle["oracle_expected_revenue_share"] == pytest.approx(1.0)
    for policy in document["policies"]:
        assert policy["guardrail_violations"] == 0
        assert policy["expected_revenue"] <= oracle["expected_revenue"] + 1e-6
    assert (out / "simulation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_simulate_same_seed_same_json(shared_data: Path, tmp_path: Path) -> None:
    documents = []
    for name in ("a", "b"):
        code, output = run_simulate(
            str(shared_data / REES46),
            "--seed",
            "1",
            "--out",
            str(tmp_path / name),
            "--max-users",
            "300",
        )
        assert code == 0, output
        documents.append((tmp_path / name / "simulation.json").read_text(encoding="utf-8"))

    assert documents[0] == documents[1]


def test_simulate_missing_log_argument_rejected(tmp_path: Path) -> None:
    code, output = run_simulate("--out", str(tmp_path))

    assert code == 2
    assert "missing LOG" in output


def test_simulate_missing_file_rejected(tmp_path: Path) -> None:
    code, output = run_simulate(str(tmp_path / "absent.csv"), "--out", str(tmp_path / "out"))

    assert code == 1
    assert "absent.csv: file not found" in output
    assert not (tmp_path / "out").exists()


def test_simulate_layout_without_prices_rejected(shared_data: Path, tmp_path: Path) -> None:
    sessions = shared_data / "yoochoose_rsc15_sessionrec_100k" / "yoochoose-clicks-100k_test.txt"

    code, output = run_simulate(str(sessions), "--out", str(tmp_path / "out"))

    assert code == 1
    assert "rsc15 layout has no prices or purchases" in output


def test_simulate_unknown_layout_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello,world\n", encoding="utf-8")

    code, output = run_simulate(str(path), "--out", str(tmp_path / "out"))

    assert code == 1
    assert "unknown log layout" in output


def test_simulate_log_without_purchases_rejected(tmp_path: Path) -> None:
    path = tmp_path / "views.csv"
    path.write_text(
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
        "user_session\n"
        "2019-10-01 00:00:00 UTC,view,10,1,,,100.00,u1,s1\n",
        encoding="utf-8",
    )

    code, output = run_simulate(str(path), "--out", str(tmp_path / "out"))

    assert code == 1
    assert "no purchase events" in output


def test_simulate_out_is_a_file_rejected(shared_data: Path, tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.write_text("", encoding="utf-8")

    code, output = run_simulate(str(shared_data / REES46), "--out", str(occupied))

    assert code == 2
    assert "is a file" in output
