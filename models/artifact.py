"""Model artifacts on disk: weights (safetensors), config, vocabulary and metrics as JSON.

An artifact is a directory::

    config.json          schema_version, network sizes, feature statistics
    weights.safetensors  the SequenceNet state dict
    vocabulary.json      item ids with reference prices and categories, category names
    metrics.json         training and validation figures (informational)

Nothing is unpickled, so loading an artifact cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from models.features import FeatureStats
from models.gru import GRUConfig, SequenceNet
from models.vocabulary import CategoryVocabulary, ItemVocabulary

__all__ = [
    "SCHEMA_VERSION",
    "Artifact",
    "ModelArtifactError",
    "ModelSchemaError",
    "load_artifact",
    "save_artifact",
]

# Bump when the meaning of a file in the artifact changes; loading rejects other versions.
SCHEMA_VERSION = 1

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
VOCABULARY_FILE = "vocabulary.json"
METRICS_FILE = "metrics.json"


class ModelArtifactError(Exception):
    """A model directory is missing a file or holds one that cannot be read."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"model artifact {path}: {problem}")
        self.path = path


class ModelSchemaError(ModelArtifactError):
    """A model directory was written with a schema version this code does not read."""

    def __init__(self, path: Path, found: object, expected: int) -> None:
        super().__init__(
            path,
            f"schema version {found!r} does not match the version this code reads "
            f"({expected}); retrain the model with `pricestream train`",
        )
        self.found = found
        self.expected = expected


@dataclass(frozen=True)
class Artifact:
    """Everything needed to rebuild a trained SequenceNet and encode its inputs."""

    config: GRUConfig
    stats: FeatureStats
    items: ItemVocabulary
    categories: CategoryVocabulary
    net: SequenceNet  # in eval mode
    metrics: Mapping[str, Any]
    version: str  # "gru-" + first 12 hex digits of the weights file's SHA-256


def _weights_version(weights: bytes) -> str:
    return "gru-" + hashlib.sha256(weights).hexdigest()[:12]


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def save_artifact(
    directory: Path,
    net: SequenceNet,
    stats: FeatureStats,
    items: ItemVocabulary,
    categories: CategoryVocabulary,
    metrics: Mapping[str, Any],
) -> str:
    """Write the artifact files into ``directory`` (created if missing); return the version."""
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {
        name: tensor.detach().contiguous().cpu() for name, tensor in net.state_dict().items()
    }
    save_file(tensors, str(directory / WEIGHTS_FILE))
    # safetensors 0.8 creates the file readable by its owner only, but a worker running
    # as another user (the Docker image's, say) must be able to load the artifact.
    (directory / WEIGHTS_FILE).chmod(0o644)
    config = {
        "schema_version": SCHEMA_VERSION,
        "network": net.config.to_json(),
        "features": {
            "log_price_mean": stats.log_price_mean,
            "log_price_std": stats.log_price_std,
            "has_prices": stats.has_prices,
        },
    }
    item_columns = items.to_json()
    item_columns["reference_prices"] = [_finite_or_none(p) for p in items.reference_prices]
    vocabulary = {"items": item_columns, "categories": list(categories.names)}
    _write_json(directory / CONFIG_FILE, config)
    _write_json(directory / VOCABULARY_FILE, vocabulary)
    _write_json(directory / METRICS_FILE, dict(metrics))
    return _weights_version((directory / WEIGHTS_FILE).read_bytes())


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise ModelArtifactError(path, "file not found") from error
    except (OSError, ValueError) as error:
        raise ModelArtifactError(path, f"cannot be read as JSON ({error})") from error
    if not isinstance(data, dict):
        raise ModelArtifactError(path, f"expected a JSON object, got {type(data).__name__}")
    return data


def load_artifact(directory: str | Path) -> Artifact:
    """Read and check an artifact directory written by save_artifact.

    Raises ModelSchemaError when config.json names another schema version, and
    ModelArtifactError for a missing or unreadable file.
    """
    directory = Path(directory)
    config = _read_json(directory / CONFIG_FILE)
    found = config.get("schema_version")
    if found != SCHEMA_VERSION:
        raise ModelSchemaError(directory / CONFIG_FILE, found, SCHEMA_VERSION)
    vocabulary = _read_json(directory / VOCABULARY_FILE)
    metrics_path = directory / METRICS_FILE
    metrics = _read_json(metrics_path) if metrics_path.exists() else {}

    weights_path = directory / WEIGHTS_FILE
    try:
        weights = weights_path.read_bytes()
        state_dict = load_file(str(weights_path))
    except FileNotFoundError as error:
        raise ModelArtifactError(weights_path, "file not found") from error
    except (OSError, SafetensorError) as error:
        raise ModelArtifactError(weights_path, f"cannot be read ({error})") from error

    try:
        network = GRUConfig(**config["network"])
        features = config["features"]
        stats = FeatureStats(
            log_price_mean=float(features["log_price_mean"]),
            log_price_std=float(features["log_price_std"]),
            has_prices=bool(features["has_prices"]),
        )
        items = ItemVocabulary.from_json(vocabulary["items"])
        categories = CategoryVocabulary(tuple(str(name) for name in vocabulary["categories"]))
    except (KeyError, TypeError, ValueError) as error:
        problem = f"config or vocabulary is incomplete ({error})"
        raise ModelArtifactError(directory, problem) from error
    if len(items) != network.num_items or len(categories) != network.num_categories:
        raise ModelArtifactError(
            directory,
            f"vocabulary has {len(items)} items and {len(categories)} categories but the "
            f"network expects {network.num_items} and {network.num_categories}",
        )
    net = SequenceNet(network)
    try:
        net.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise ModelArtifactError(weights_path, f"does not fit config.json ({error})") from error
    net.eval()
    return Artifact(
        config=network,
        stats=stats,
        items=items,
        categories=categories,
        net=net,
        metrics=metrics,
        version=_weights_version(weights),
    )
