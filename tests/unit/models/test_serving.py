import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from models.artifact import SCHEMA_VERSION
from models.serving import (
    DEFAULT_MODEL_DIR,
    ModelArtifactError,
    ModelEvent,
    ModelInputError,
    ModelSchemaError,
    PropensityCurve,
    SequenceModel,
)

from .conftest import ITEM_IDS


def _events() -> list[ModelEvent]:
    return [
        ModelEvent("item-1", "view", 11.0, "cat-1", None),
        ModelEvent("item-2", "view", 12.5, "cat-2", 4.0),
        ModelEvent("unknown-item", "view", None, None, 30.0),
        ModelEvent("item-1", "cart", 10.0, "cat-1", 2.5),
        ModelEvent("item-3", "remove_from_cart", 13.0, "unknown-category", 3600.0),
        ModelEvent("item-1", "purchase", 10.0, "cat-1", 90000.0),
    ]


def test_step_by_event_matches_whole_sequence(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    events = _events()

    hidden = model.initial_hidden(1)
    stepped = []
    for event in events:
        hidden = model.step(hidden, [event])
        stepped.append(hidden[0].copy())

    net = model._net
    with torch.no_grad():
        states, last = net(model.encode([events]))
    whole = states[0].numpy()

    for position, row in enumerate(stepped):
        np.testing.assert_allclose(row, whole[position], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hidden[0], last[0].numpy(), rtol=1e-5, atol=1e-6)


def test_score_after_steps_matches_whole_sequence(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    events = _events()
    hidden = model.initial_hidden(1)
    for event in events:
        hidden = model.step(hidden, [event])
    with torch.no_grad():
        _, last = model._net(model.encode([events]))

    stepped = model.score(hidden, k=10)[0]
    whole = model.score(last.numpy(), k=10)[0]

    assert stepped.item_ids == whole.item_ids
    np.testing.assert_allclose(stepped.scores, whole.scores, rtol=1e-5)
    assert math.isclose(stepped.propensity.intercept, whole.propensity.intercept, rel_tol=1e-5)
    assert math.isclose(stepped.propensity.slope, whole.propensity.slope, rel_tol=1e-5)
    assert math.isclose(stepped.expected_price, whole.expected_price, rel_tol=1e-5)


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_score_matches_network_heads(random_model_dir: Path, scale: float) -> None:
    model = SequenceModel.load(random_model_dir)
    rng = np.random.default_rng(1)
    hidden = (scale * rng.normal(size=(3, model.hidden_size))).astype(np.float32)
    excluded = [{"item-1"}, set(), {"item-2", "unknown-item"}]

    scores = model.score(hidden, k=2, exclude=excluded)

    with torch.no_grad():
        state = torch.from_numpy(hidden)
        logits = model._net.item_logits(state)
        logits[:, 0] = -torch.inf  # the OOV row is never recommended
        probabilities = torch.softmax(logits, dim=-1).numpy()
        heads = model._net.heads(state)
    for row, result in enumerate(scores):
        ranked = sorted(
            (item for item in ITEM_IDS if item not in excluded[row]),
            key=lambda item: -probabilities[row, ITEM_IDS.index(item) + 1],
        )
        assert result.item_ids == tuple(ranked[:2])
        expected = [probabilities[row, ITEM_IDS.index(item) + 1] for item in ranked[:2]]
        np.testing.assert_allclose(result.scores, expected, rtol=1e-5)
        intercept = float(heads.intercept[row])
        slope = float(heads.slope[row])
        assert math.isclose(result.propensity.intercept, intercept, rel_tol=1e-5, abs_tol=1e-6)
        assert math.isclose(result.propensity.slope, slope, rel_tol=1e-5, abs_tol=1e-6)


def test_step_batch_rows_match_single_rows(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    events = _events()[:3]
    start = np.random.default_rng(0).normal(size=(3, model.hidden_size)).astype(np.float32)

    batched = model.step(start, events)

    for row, event in enumerate(events):
        single = model.step(start[row : row + 1], [event])
        np.testing.assert_allclose(batched[row], single[0], rtol=1e-5, atol=1e-6)


def test_step_and_score_repeat_bit_identical(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    hidden = model.initial_hidden(2)
    events = _events()[:2]

    first = model.step(hidden, events)
    second = model.step(hidden, events)

    assert first.tobytes() == second.tobytes()
    assert model.score(first) == model.score(second)


def test_step_unknown_item_counted_not_raised(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    model.step(model.initial_hidden(2), [_events()[2], _events()[2]])

    assert model.unknown_item_count == 2


def test_step_invalid_event_type_raises(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    event = ModelEvent("item-1", "wishlist", 10.0, None, None)

    with pytest.raises(ModelInputError) as caught:
        model.step(model.initial_hidden(1), [event])

    assert caught.value.field == "event_type"
    assert "'wishlist'" in str(caught.value)


@pytest.mark.parametrize("price", [0.0, -3.0, math.nan, math.inf])
def test_step_invalid_price_raises(random_model_dir: Path, price: float) -> None:
    model = SequenceModel.load(random_model_dir)
    event = ModelEvent("item-1", "view", price, None, None)

    with pytest.raises(ModelInputError) as caught:
        model.step(model.initial_hidden(1), [event])

    assert caught.value.field == "price"


def test_step_rejects_wrong_hidden_shape(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    with pytest.raises(ValueError, match=r"shape \(B, 16\)"):
        model.step(np.zeros((1, 8), dtype=np.float32), _events()[:1])


def test_step_rejects_event_count_mismatch(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    with pytest.raises(ValueError, match="one event per hidden row"):
        model.step(model.initial_hidden(2), _events()[:1])


def test_score_never_returns_oov_or_excluded(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    hidden = model.step(model.initial_hidden(1), _events()[:1])
    everything = model.score(hidden, k=len(ITEM_IDS))[0]
    excluded = set(everything.item_ids[:5]) | {"not-in-vocabulary"}

    scores = model.score(hidden, k=len(ITEM_IDS), exclude=[excluded])[0]

    assert len(everything.item_ids) == len(ITEM_IDS)
    assert set(everything.item_ids) == set(ITEM_IDS)
    assert not excluded & set(scores.item_ids)
    assert len(scores.item_ids) == len(ITEM_IDS) - 5
    assert list(scores.scores) == sorted(scores.scores, reverse=True)


def test_score_top_k_sorted_and_sized(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    hidden = model.step(model.initial_hidden(3), _events()[:3])

    results = model.score(hidden, k=7)

    assert len(results) == 3
    for result in results:
        assert len(result.item_ids) == 7
        assert list(result.scores) == sorted(result.scores, reverse=True)
        assert result.propensity.slope <= 0.0
        assert result.expected_price > 0.0


def test_hidden_bytes_round_trip(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)
    hidden = model.step(model.initial_hidden(1), _events()[:1])[0]

    data = model.hidden_to_bytes(hidden)
    restored = model.hidden_from_bytes(data)

    assert len(data) == 4 * model.hidden_size
    assert restored.dtype == np.float32
    assert restored.tobytes() == hidden.tobytes()


def test_hidden_from_bytes_wrong_length_raises(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    with pytest.raises(ValueError, match="must be 64 bytes"):
        model.hidden_from_bytes(b"\x00" * 60)


def test_catalog_lists_vocabulary_with_prices(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    catalog = model.catalog()

    assert [entry.item_id for entry in catalog] == list(ITEM_IDS)
    assert catalog[1].reference_price == 11.0
    assert catalog[0].reference_price is None
    assert catalog[4].category == "cat-1"


def test_load_rejects_other_schema_version(random_model_dir: Path) -> None:
    config_path = random_model_dir / "config.json"
    config = json.loads(config_path.read_text())
    config["schema_version"] = SCHEMA_VERSION + 1
    config_path.write_text(json.dumps(config))

    with pytest.raises(ModelSchemaError) as caught:
        SequenceModel.load(random_model_dir)

    assert caught.value.found == SCHEMA_VERSION + 1
    assert caught.value.expected == SCHEMA_VERSION
    assert f"schema version {SCHEMA_VERSION + 1}" in str(caught.value)
    assert f"({SCHEMA_VERSION})" in str(caught.value)


def test_version_names_weights_hash(random_model_dir: Path) -> None:
    model = SequenceModel.load(random_model_dir)

    assert model.version.startswith("gru-")
    assert len(model.version) == len("gru-") + 12


@pytest.mark.parametrize(
    ("intercept", "slope", "price", "reference"),
    [(0.0, -1.0, 10.0, 10.0), (800.0, 0.0, 1.0, 1.0), (-800.0, -50.0, 1e9, 1e-3)],
)
def test_propensity_probability_finite_in_unit_interval(
    intercept: float, slope: float, price: float, reference: float
) -> None:
    probability = PropensityCurve(intercept, slope).probability(price, reference)

    assert math.isfinite(probability)
    assert 0.0 <= probability <= 1.0


def test_propensity_higher_price_not_more_likely() -> None:
    curve = PropensityCurve(intercept=0.3, slope=-1.7)

    assert curve.probability(8.0, 10.0) > curve.probability(10.0, 10.0)
    assert curve.probability(10.0, 10.0) > curve.probability(12.0, 10.0)
    assert curve.probability(10.0, 10.0) == pytest.approx(1.0 / (1.0 + math.exp(-0.3)))


def test_propensity_rejects_non_positive_reference() -> None:
    with pytest.raises(ModelInputError) as caught:
        PropensityCurve(0.0, -1.0).probability(10.0, 0.0)

    assert caught.value.field == "reference_price"


def test_default_model_loads_and_scores() -> None:
    assert (DEFAULT_MODEL_DIR / "weights.safetensors").is_file()
    model = SequenceModel.load_default()
    first = model.catalog()[0]
    event = ModelEvent(first.item_id, "view", first.reference_price, first.category, None)

    scores = model.score(model.step(model.initial_hidden(1), [event]), k=20)[0]

    assert model.has_price_heads
    assert len(scores.item_ids) == 20
    assert 0.0 < scores.propensity.probability(first.reference_price or 1.0, 1.0) < 1.0
    assert scores.expected_price > 0.0


def test_load_missing_weights_names_file(random_model_dir: Path) -> None:
    (random_model_dir / "weights.safetensors").unlink()

    with pytest.raises(ModelArtifactError) as caught:
        SequenceModel.load(random_model_dir)

    assert caught.value.path == random_model_dir / "weights.safetensors"
    assert "file not found" in str(caught.value)


def test_load_vocabulary_size_mismatch_raises(random_model_dir: Path) -> None:
    vocabulary_path = random_model_dir / "vocabulary.json"
    vocabulary = json.loads(vocabulary_path.read_text())
    for column in vocabulary["items"].values():
        column.pop()
    vocabulary_path.write_text(json.dumps(vocabulary))

    with pytest.raises(ModelArtifactError, match="vocabulary has 29 items .* expects 30"):
        SequenceModel.load(random_model_dir)
