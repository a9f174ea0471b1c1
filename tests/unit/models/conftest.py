"""Fixtures for model tests: a small randomly initialised artifact, single-threaded torch."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.artifact import save_artifact
from models.features import FeatureStats
from models.gru import GRUConfig, SequenceNet
from models.vocabulary import CategoryVocabulary, ItemVocabulary

ITEM_IDS = tuple(f"item-{index}" for index in range(30))


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    torch.set_num_threads(1)


@pytest.fixture
def random_model_dir(tmp_path: Path) -> Path:
    """An artifact directory holding an untrained network over 30 items and 3 categories."""
    torch.manual_seed(7)
    items = ItemVocabulary(
        item_ids=ITEM_IDS,
        reference_prices=tuple(10.0 + index if index % 5 else None for index in range(30)),
        categories=tuple(f"cat-{index % 3}" for index in range(30)),
    )
    categories = CategoryVocabulary(("cat-0", "cat-1", "cat-2"))
    net = SequenceNet(GRUConfig(num_items=30, num_categories=3, item_dim=8, hidden_size=16))
    stats = FeatureStats(log_price_mean=3.0, log_price_std=0.5, has_prices=True)
    directory = tmp_path / "model"
    save_artifact(directory, net, stats, items, categories, {"note": "random"})
    return directory
