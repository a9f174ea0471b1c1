import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from app.cli import main
from models import training
from models.artifact import load_artifact
from models.serving import SequenceModel

REES46 = "rees46_multicategory_2019oct_head/2019-Oct_head_17434rows.csv"


@pytest.fixture
def synthetic_log(tmp_path: Path) -> Path:
    """40 users walking item chains with prices, carts and some purchases, in JSONL."""
    lines = []
    for user in range(40):
        start = user % 6
        for step in range(8):
            item = (start + step) % 10
            kind = "view"
            if step == 6:
                kind = "cart"
            elif step == 7 and user % 3 == 0:
                kind = "purchase"
            record = {
                "event_id": f"{user}-{step}",
                "user_id": f"u{user}",
                "event_time": 1_700_000_000_000 + (user * 8 + step) * 60_000,
                "event_type": kind,
                "item_id": f"i{item}",
                "price": 10.0 + item,
                "category": f"c{item % 3}",
            }
            lines.append(json.dumps(record))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _train(log: Path, out: Path, *extra: str) -> object:
    return CliRunner().invoke(
        main,
        ["train", str(log), "--out", str(out), "--epochs", "2", "--no-progress", *extra],
    )


def test_train_writes_artifact_and_plot(synthetic_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"

    result = _train(synthetic_log, out)

    assert result.exit_code == 0, result.output
    assert "best epoch" in result.output
    for name in ("config.json", "weights.safetensors", "vocabulary.json", "metrics.json"):
        assert (out / name).is_file()
    assert (out / "loss_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    artifact = load_artifact(out)
    assert artifact.stats.has_prices
    assert len(artifact.metrics["history"]) == 2


def test_train_same_seed_same_weights(synthetic_log: Path, tmp_path: Path) -> None:
    first = _train(synthetic_log, tmp_path / "a", "--seed", "3")
    second = _train(synthetic_log, tmp_path / "b", "--seed", "3")
    other = _train(synthetic_log, tmp_path / "c", "--seed", "4")

    versions = [load_artifact(tmp_path / name).version for name in ("a", "b", "c")]
    assert first.exit_code == second.exit_code == other.exit_code == 0
    assert versions[0] == versions[1]
    assert versions[0] != versions[2]


def test_train_nan_loss_writes_nothing(
    synthetic_log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_losses = training._losses

    def nan_losses(*args: object) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        item, purchase, price = real_losses(*args)
        return item * torch.nan, purchase, price

    monkeypatch.setattr(training, "_losses", nan_losses)
    out = tmp_path / "model"

    result = _train(synthetic_log, out)

    assert result.exit_code == 1
    assert "training loss is nan at epoch 1, batch 0; no model was saved" in result.output
    assert not out.exists()


def test_train_unknown_layout_names_file(tmp_path: Path) -> None:
    log = tmp_path / "odd.csv"
    log.write_text("when,what\n1,2\n")

    result = _train(log, tmp_path / "model")

    assert result.exit_code == 1
    assert str(log) in result.output
    assert "unknown log layout" in result.output


def test_train_refuses_non_model_out_dir(synthetic_log: Path, tmp_path: Path) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")

    result = _train(synthetic_log, out)

    assert result.exit_code == 1
    assert "non-empty directory without a model" in result.output
    assert (out / "keep.txt").read_text() == "mine"


def test_evaluate_writes_report_and_table(synthetic_log: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    assert _train(synthetic_log, model).exit_code == 0
    report = tmp_path / "eval" / "report.json"

    result = CliRunner().invoke(
        main, ["evaluate", "--model", str(model), str(synthetic_log), "--report", str(report)]
    )

    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())
    assert set(figures["next_item"]) == {"gru", "most_popular", "item_knn"}
    assert figures["test_targets"] > 0
    assert 0.0 <= figures["next_item"]["gru"]["recall@20"] <= 1.0
    assert "purchase" in figures
    assert "| GRU |" in report.with_suffix(".md").read_text()


def test_evaluate_rejects_other_split(synthetic_log: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    assert _train(synthetic_log, model).exit_code == 0

    result = CliRunner().invoke(
        main,
        [
            "evaluate", "--model", str(model), str(synthetic_log),
            "--test-fraction", "0.3", "--report", str(tmp_path / "r.json"),
        ],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "the split differs" in result.output


@pytest.mark.slow
def test_tiny_model_on_rees46_slice_beats_most_popular(shared_data: Path, tmp_path: Path) -> None:
    log = shared_data / REES46
    model = tmp_path / "model"
    report = tmp_path / "report.json"
    started = time.monotonic()

    trained = CliRunner().invoke(
        main,
        [
            "train", str(log), "--max-events", "9000", "--out", str(model),
            "--epochs", "8", "--hidden-size", "32", "--item-dim", "32", "--no-progress",
        ],
    )  # fmt: skip
    elapsed = time.monotonic() - started
    evaluated = CliRunner().invoke(
        main,
        ["evaluate", "--model", str(model), str(log), "--max-events", "9000",
         "--report", str(report)],
    )  # fmt: skip

    assert trained.exit_code == 0, trained.output
    assert evaluated.exit_code == 0, evaluated.output
    assert elapsed < 60.0
    figures = json.loads(report.read_text())["next_item"]
    assert figures["gru"]["recall@20"] > figures["most_popular"]["recall@20"]


def test_train_without_price_variation_keeps_prior_slope(
    synthetic_log: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"

    result = _train(synthetic_log, out, "--prior-price-slope", "-2.5")

    assert result.exit_code == 0, result.output
    model = SequenceModel.load(out)
    hidden = np.random.default_rng(0).normal(size=(3, model.hidden_size)).astype(np.float32)
    for scores in model.score(hidden):
        assert scores.propensity.slope == pytest.approx(-2.5, rel=1e-5)
    assert model.metrics["heads"]["purchase_positions_with_price_variation"] == 0
