"""The training loop: next-item cross-entropy plus masked purchase and price losses."""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional
from tqdm import tqdm

from models.evaluation import gru_next_item, next_item_summary
from models.features import FeatureStats
from models.gru import GRUConfig, SequenceNet
from models.logs import LogEvent
from models.sequences import (
    IGNORE_INDEX,
    PARTS,
    TRAIN,
    VALID,
    EncodedSequence,
    PaddedBatch,
    TimeSplit,
    build_vocabularies,
    chunk,
    encode_sequences,
    pad_batch,
)
from models.vocabulary import OOV_INDEX, CategoryVocabulary, ItemVocabulary

__all__ = ["TrainingConfig", "TrainingDivergedError", "TrainingResult", "train_model"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """Network sizes and optimiser settings; docs/model.md reports results for the defaults."""

    hidden_size: int = 64
    item_dim: int = 48
    category_dim: int = 8
    dropout: float = 0.2
    epochs: int = 20
    patience: int = 4  # epochs without a better valid Recall@20 before stopping
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 0.0
    max_length: int = 64  # longer train sequences are cut into pieces of this many events
    purchase_weight: float = 1.0
    # Slope b of the propensity curve before the refit. It stays at this value where
    # the train part has no price variation within an item, which leaves b unidentified.
    prior_price_slope: float = -1.0
    price_weight: float = 0.5
    min_item_count: int = 1
    seed: int = 0


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite, so no artifact is written."""

    def __init__(self, epoch: int, batch: int, loss: float) -> None:
        super().__init__(
            f"training loss is {loss} at epoch {epoch}, batch {batch}; no model was saved. "
            "Lower --learning-rate or check the log for extreme prices"
        )
        self.epoch = epoch
        self.batch = batch
        self.loss = loss


@dataclass(frozen=True)
class TrainingResult:
    """The best network (by valid Recall@20) with what is needed to save it."""

    net: SequenceNet
    items: ItemVocabulary
    categories: CategoryVocabulary
    stats: FeatureStats
    split: TimeSplit
    metrics: dict[str, Any] = field(default_factory=dict)


def _losses(
    net: SequenceNet, batch: PaddedBatch, part: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return next-item, purchase and price losses on the positions of ``part``."""
    states, _ = net(batch.inputs)  # (B, T, H)

    # Next item: softmax over known items at positions whose target is a known item.
    positions = (batch.next_part == part) & (batch.next_item != IGNORE_INDEX)
    logits = net.item_logits(states[positions])  # (N, V + 1)
    logits[:, OOV_INDEX] = -1e9
    item_loss = functional.cross_entropy(logits, batch.next_item[positions])

    heads = net.heads(states)
    zero = states.sum() * 0.0

    # Purchase propensity: logistic in log(price / reference) where a label exists.
    labelled = (batch.parts == part) & ~torch.isnan(batch.purchase_label)
    purchase_loss = zero
    if bool(labelled.any()):
        ratio = batch.price_ratio[labelled]
        purchase_logits = heads.intercept[labelled] + heads.slope[labelled] * ratio
        purchase_loss = functional.binary_cross_entropy_with_logits(
            purchase_logits, batch.purchase_label[labelled]
        )

    # Price level: MSE on the standardised log price of the next priced event.
    priced = (batch.next_part == part) & ~torch.isnan(batch.next_log_price)
    price_loss = zero
    if bool(priced.any()):
        price_loss = functional.mse_loss(heads.log_price[priced], batch.next_log_price[priced])
    return item_loss, purchase_loss, price_loss


def train_model(
    sequences: Sequence[Sequence[LogEvent]],
    split: TimeSplit,
    config: TrainingConfig,
    progress: bool = True,
) -> TrainingResult:
    """Train on the train part, pick the epoch with the best valid Recall@20.

    Raises TrainingDivergedError as soon as a batch loss is not finite.
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    items, categories, stats = build_vocabularies(sequences, split, config.min_item_count)
    if len(items) == 0:
        msg = "the train part of the log has no items; lower the valid and test fractions"
        raise ValueError(msg)
    train_set = [
        piece
        for sequence in encode_sequences(sequences, split, TRAIN, items, categories, stats)
        if len(sequence) > 1
        for piece in chunk(sequence, config.max_length)
    ]
    valid_set = _sorted_by_length(
        encode_sequences(sequences, split, VALID, items, categories, stats)
    )
    net = SequenceNet(
        GRUConfig(
            num_items=len(items),
            num_categories=len(categories),
            item_dim=config.item_dim,
            category_dim=config.category_dim,
            hidden_size=config.hidden_size,
            dropout=config.dropout,
        )
    )
    optimiser = torch.optim.Adam(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    logger.info(
        "training on %d sequences, %d items, %d categories, prices %s",
        len(train_set),
        len(items),
        len(categories),
        "yes" if stats.has_prices else "no",
    )

    history: list[dict[str, float]] = []
    best_state = copy.deepcopy(net.state_dict())
    best_key = (-1.0, -1.0)
    best_epoch = 0
    started = time.monotonic()
    for epoch in range(1, config.epochs + 1):
        # One pass over the shuffled train pieces.
        net.train()
        order = rng.permutation(len(train_set))
        batches = [
            [train_set[index] for index in order[start : start + config.batch_size]]
            for start in range(0, len(order), config.batch_size)
        ]
        totals = np.zeros(3)
        bar = tqdm(
            batches, desc=f"epoch {epoch}/{config.epochs}", disable=not progress, leave=False
        )
        for batch_index, chosen in enumerate(bar):
            item_loss, purchase_loss, price_loss = _losses(net, pad_batch(chosen), TRAIN)
            loss = (
                item_loss
                + config.purchase_weight * purchase_loss
                + config.price_weight * price_loss
            )
            if not math.isfinite(loss.item()):
                raise TrainingDivergedError(epoch, batch_index, loss.item())
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optimiser.step()
            totals += [item_loss.item(), purchase_loss.item(), price_loss.item()]
            bar.set_postfix(loss=f"{loss.item():.3f}")

        # Validation: next-item ranks of the valid part, with train events as history.
        valid = gru_next_item(net, valid_set, VALID)
        summary = next_item_summary(valid.ranks)
        means = totals / max(len(batches), 1)
        record = {
            "epoch": epoch,
            "train_item_loss": float(means[0]),
            "train_purchase_loss": float(means[1]),
            "train_price_loss": float(means[2]),
            "valid_item_loss": valid.cross_entropy,
            "valid_recall@20": summary["recall@20"],
            "valid_mrr@20": summary["mrr@20"],
        }
        history.append(record)
        logger.info(
            "epoch %d: train item loss %.4f, valid item loss %.4f, valid Recall@20 %.4f",
            epoch,
            means[0],
            valid.cross_entropy,
            summary["recall@20"],
        )

        # Keep the best epoch, and stop after `patience` epochs without improvement.
        key = (_or_zero(summary["recall@20"]), _or_zero(summary["mrr@20"]))
        if key > best_key:
            best_key, best_epoch = key, epoch
            best_state = copy.deepcopy(net.state_dict())
        elif epoch - best_epoch >= config.patience:
            break

    net.load_state_dict(best_state)
    net.eval()
    heads = _refit_heads(net, train_set, valid_set, config) if stats.has_prices else {}
    metrics = {
        "training": asdict(config),
        "split": {
            "valid_start_s": split.valid_start_s,
            "test_start_s": split.test_start_s,
            "parts": list(PARTS),
        },
        "history": history,
        "heads": heads,
        "best_epoch": best_epoch,
        "valid_recall@20": best_key[0],
        "valid_mrr@20": best_key[1],
        "train_sequences": len(train_set),
        "items": len(items),
        "categories": len(categories),
        "has_prices": stats.has_prices,
        "training_seconds": round(time.monotonic() - started, 1),
    }
    return TrainingResult(net, items, categories, stats, split, metrics)


@dataclass(frozen=True)
class _HeadData:
    """Frozen GRU states with the purchase and price targets of one part."""

    purchase_states: torch.Tensor  # (N, H)
    purchase_ratio: torch.Tensor  # (N,)
    purchase_label: torch.Tensor  # (N,)
    price_states: torch.Tensor  # (M, H)
    price_target: torch.Tensor  # (M,)


def _head_data(net: SequenceNet, sequences: Sequence[EncodedSequence], part: int) -> _HeadData:
    purchase: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    price: list[tuple[torch.Tensor, torch.Tensor]] = []
    with torch.no_grad():
        for start in range(0, len(sequences), 256):
            batch = pad_batch(sequences[start : start + 256])
            states, _ = net(batch.inputs)  # (B, T, H)
            labelled = (batch.parts == part) & ~torch.isnan(batch.purchase_label)
            purchase.append(
                (states[labelled], batch.price_ratio[labelled], batch.purchase_label[labelled])
            )
            priced = (batch.next_part == part) & ~torch.isnan(batch.next_log_price)
            price.append((states[priced], batch.next_log_price[priced]))
    return _HeadData(
        purchase_states=torch.cat([row[0] for row in purchase]),
        purchase_ratio=torch.cat([row[1] for row in purchase]),
        purchase_label=torch.cat([row[2] for row in purchase]),
        price_states=torch.cat([row[0] for row in price]),
        price_target=torch.cat([row[1] for row in price]),
    )


def _refit_heads(
    net: SequenceNet,
    train_set: Sequence[EncodedSequence],
    valid_set: Sequence[EncodedSequence],
    config: TrainingConfig,
    steps: int = 400,
) -> dict[str, float | int]:
    """Refit the purchase and price heads on the frozen GRU, stopping on valid loss.

    The GRU keeps improving next-item ranking long after these small heads start to
    overfit the few purchases, so they are fitted again on the chosen epoch's states,
    full batch, keeping the step with the lowest valid loss.
    """
    train = _head_data(net, train_set, TRAIN)
    valid = _head_data(net, valid_set, VALID)
    sizes = [len(data.purchase_label) for data in (train, valid)]
    sizes += [len(data.price_target) for data in (train, valid)]
    if min(sizes) == 0:
        logger.warning("no purchase or price targets in the train or valid part; heads kept")
        return {}
    # Start from constant predictions (the train purchase rate with the prior price
    # slope, the train mean price level), so that early stopping can only improve on them.
    base_rate = float(train.purchase_label.mean().clamp(1e-4, 1 - 1e-4))
    # slope = -softplus(raw), so raw = log(exp(-slope) - 1) gives the prior slope.
    slope_raw = math.log(math.expm1(-min(config.prior_price_slope, -1e-3)))
    with torch.no_grad():
        net.propensity.weight.zero_()
        net.propensity.bias.copy_(torch.tensor([math.log(base_rate / (1 - base_rate)), slope_raw]))
        net.price_level.weight.zero_()
        net.price_level.bias.fill_(float(train.price_target.mean()))

    def purchase_loss(data: _HeadData) -> torch.Tensor:
        heads = net.heads(data.purchase_states)
        logits = heads.intercept + heads.slope * data.purchase_ratio
        return functional.binary_cross_entropy_with_logits(logits, data.purchase_label)

    def price_loss(data: _HeadData) -> torch.Tensor:
        return functional.mse_loss(net.heads(data.price_states).log_price, data.price_target)

    varied = int(torch.sum(train.purchase_ratio.abs() > 1e-6))
    if varied == 0:
        logger.warning(
            "no event in the train part has a price that differs from its item's reference "
            "price, so the propensity slope stays at the prior %.2f",
            config.prior_price_slope,
        )
    results: dict[str, float | int] = {
        "purchase_positions_with_price_variation": varied,
        "purchase_valid_base_rate_loss": functional.binary_cross_entropy(
            torch.full_like(valid.purchase_label, base_rate), valid.purchase_label
        ).item(),
    }
    for name, module, loss_of in (
        ("purchase", net.propensity, purchase_loss),
        ("price", net.price_level, price_loss),
    ):
        # Only the weights decay, so a bias without gradient (the prior slope) is kept.
        optimiser = torch.optim.AdamW(
            [
                {"params": [module.weight], "weight_decay": 1e-4},
                {"params": [module.bias], "weight_decay": 0.0},
            ],
            lr=1e-2,
        )
        with torch.no_grad():
            best_loss, best_step = loss_of(valid).item(), 0
        best_state = copy.deepcopy(module.state_dict())
        for step in range(1, steps + 1):
            loss = loss_of(train)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                valid_loss = loss_of(valid).item()
            if valid_loss < best_loss:
                best_loss, best_step = valid_loss, step
                best_state = copy.deepcopy(module.state_dict())
        module.load_state_dict(best_state)
        results[f"{name}_valid_loss"] = best_loss
        results[f"{name}_steps"] = best_step
    logger.info(
        "refitted heads: valid purchase log-loss %.4f after %d steps (train base rate "
        "%.4f), valid price MSE %.4f after %d steps",
        results["purchase_valid_loss"],
        results["purchase_steps"],
        results["purchase_valid_base_rate_loss"],
        results["price_valid_loss"],
        results["price_steps"],
    )
    return results


def _sorted_by_length(sequences: list[EncodedSequence]) -> list[EncodedSequence]:
    """Order sequences by length so padded batches waste little work."""
    return sorted(sequences, key=len)


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value
