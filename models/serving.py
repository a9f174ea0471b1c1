"""The serving API: step a user's hidden state per event and score items and prices.

The pricing engine keeps one hidden state row (float32, ``hidden_size`` values) per user,
calls ``step`` once per event and ``score`` when it needs recommendations and a propensity
curve. Both run in numpy on float32 copies of the trained weights, because for one row at
a time torch's per-call overhead costs more than the arithmetic. They compute what the
network's forward pass and heads compute (dropout off), equal to them up to float32
rounding, and the same inputs give bit-identical outputs on the same machine.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.artifact import (
    Artifact,
    ModelArtifactError,
    ModelSchemaError,
    load_artifact,
)
from models.features import DENSE_FEATURE_NAMES, ModelInputError, dense_features, event_type_index
from models.gru import EventBatch, SequenceNet
from models.vocabulary import OOV_INDEX

__all__ = [
    "DEFAULT_MODEL_DIR",
    "CatalogEntry",
    "ModelArtifactError",
    "ModelEvent",
    "ModelInputError",
    "ModelSchemaError",
    "PropensityCurve",
    "SequenceModel",
    "UserScores",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"


@dataclass(frozen=True)
class ModelEvent:
    """One event as the model sees it."""

    item_id: str
    event_type: str  # "view" | "cart" | "remove_from_cart" | "purchase"
    price: float | None  # list price seen (> 0), None when unknown
    category: str | None
    seconds_since_previous: float | None  # event-time gap to the user's previous event


@dataclass(frozen=True)
class PropensityCurve:
    """Purchase probability as a function of the offered price, for one user."""

    intercept: float  # a: the logit at the reference price
    slope: float  # b, always <= 0: a higher price never raises the probability

    def probability(self, price: float, reference_price: float) -> float:
        """Return sigmoid(a + b * log(price / reference_price)), a finite value in [0, 1]."""
        if not (math.isfinite(price) and price > 0):
            raise ModelInputError(field="price", value=price, expected="a finite number > 0")
        if not (math.isfinite(reference_price) and reference_price > 0):
            raise ModelInputError(
                field="reference_price", value=reference_price, expected="a finite number > 0"
            )
        logit = self.intercept + self.slope * math.log(price / reference_price)
        # Split by sign so that exp never overflows.
        if logit >= 0:
            return 1.0 / (1.0 + math.exp(-logit))
        odds = math.exp(logit)
        return odds / (1.0 + odds)


@dataclass(frozen=True)
class UserScores:
    """Recommendations and price response for one user, read from the hidden state."""

    item_ids: tuple[str, ...]  # top-K known items, best first; never the OOV row
    scores: tuple[float, ...]  # softmax probability over known items, descending
    propensity: PropensityCurve
    expected_price: float  # price level the user is expected to pay; 0.0 without price heads


@dataclass(frozen=True)
class CatalogEntry:
    """One vocabulary item with the price and category it had in training."""

    item_id: str
    reference_price: float | None
    category: str | None


class SequenceModel:
    """A trained GRU behind the serving API; build it with ``load`` or ``load_default``.

    ``unknown_item_count`` counts events whose item is not in the vocabulary; they are
    encoded with the shared out-of-vocabulary row.
    """

    def __init__(self, artifact: Artifact) -> None:
        self._artifact = artifact
        self._net = artifact.net
        self._net.eval()
        self.version: str = artifact.version
        self.hidden_size: int = artifact.config.hidden_size
        self.has_price_heads: bool = artifact.stats.has_prices
        self.unknown_item_count = 0
        self._item_ids = artifact.items.item_ids
        self._weights = _ServingWeights(self._net)

    @classmethod
    def load(cls, directory: str | Path, num_threads: int | None = 1) -> SequenceModel:
        """Load an artifact directory; raise ModelSchemaError on a schema version mismatch.

        ``num_threads`` is passed to ``torch.set_num_threads`` (process-wide) unless None:
        one thread is fastest for batches of a few users.
        """
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        artifact = load_artifact(directory)
        logger.info(
            "loaded model %s from %s: %d items, hidden size %d",
            artifact.version,
            directory,
            len(artifact.items),
            artifact.config.hidden_size,
        )
        return cls(artifact)

    @classmethod
    def load_default(cls, num_threads: int | None = 1) -> SequenceModel:
        """Load the model committed in models/default/, trained on the REES46 sample."""
        return cls.load(DEFAULT_MODEL_DIR, num_threads=num_threads)

    @property
    def metrics(self) -> dict[str, object]:
        """Training and validation figures stored with the artifact."""
        return dict(self._artifact.metrics)

    def initial_hidden(self, batch_size: int) -> np.ndarray:
        """Return the state of users without events: zeros of shape (batch_size, H), float32."""
        return np.zeros((batch_size, self.hidden_size), dtype=np.float32)

    def encode(self, events: Sequence[Sequence[ModelEvent]]) -> EventBatch:
        """Encode B equally long event sequences as an EventBatch of shape (B, T)."""
        items = self._artifact.items
        categories = self._artifact.categories
        stats = self._artifact.stats
        item_rows: list[list[int]] = []
        type_rows: list[list[int]] = []
        category_rows: list[list[int]] = []
        dense_rows: list[list[tuple[float, float, float, float, float]]] = []
        for sequence in events:
            item_row, type_row, category_row, dense_row = [], [], [], []
            for event in sequence:
                row = items.index(event.item_id)
                if row == OOV_INDEX:
                    self.unknown_item_count += 1
                item_row.append(row)
                type_row.append(event_type_index(event.event_type))
                category_row.append(categories.index(event.category))
                dense_row.append(
                    dense_features(
                        event.price,
                        items.reference_price(row),
                        event.seconds_since_previous,
                        stats,
                    )
                )
            item_rows.append(item_row)
            type_rows.append(type_row)
            category_rows.append(category_row)
            dense_rows.append(dense_row)
        return EventBatch(
            items=torch.tensor(item_rows, dtype=torch.int64),
            event_types=torch.tensor(type_rows, dtype=torch.int64),
            categories=torch.tensor(category_rows, dtype=torch.int64),
            dense=torch.tensor(dense_rows, dtype=torch.float32).reshape(
                len(item_rows), -1, len(DENSE_FEATURE_NAMES)
            ),
        )

    def _check_hidden(self, hidden: np.ndarray) -> np.ndarray:
        if hidden.ndim != 2 or hidden.shape[1] != self.hidden_size:
            msg = f"hidden must have shape (B, {self.hidden_size}) (got {hidden.shape})"
            raise ValueError(msg)
        return np.asarray(hidden, dtype=np.float32)

    def step(self, hidden: np.ndarray, events: Sequence[ModelEvent]) -> np.ndarray:
        """Advance each row of ``hidden`` (B, H) by one GRU step on its event; return (B, H).

        Raises ModelInputError for an unknown event type or a price that is not > 0.
        """
        state = self._check_hidden(hidden)
        if len(events) != state.shape[0]:
            msg = f"events must have one event per hidden row ({state.shape[0]}, got {len(events)})"
            raise ValueError(msg)
        if not events:
            return state.copy()
        return self._weights.gru_step(self._encode_step_inputs(events), state)

    def _encode_step_inputs(self, events: Sequence[ModelEvent]) -> np.ndarray:
        """Return the GRU inputs (B, D) for one event per row, as EventEncoder builds them."""
        items = self._artifact.items
        categories = self._artifact.categories
        stats = self._artifact.stats
        weights = self._weights
        inputs = np.empty((len(events), weights.input_size), dtype=np.float32)
        for row, event in enumerate(events):
            item_row = items.index(event.item_id)
            if item_row == OOV_INDEX:
                self.unknown_item_count += 1
            type_row = event_type_index(event.event_type)
            dense = dense_features(
                event.price,
                items.reference_price(item_row),
                event.seconds_since_previous,
                stats,
            )
            weights.fill_input(
                inputs[row], item_row, type_row, categories.index(event.category), dense
            )
        return inputs

    def score(
        self,
        hidden: np.ndarray,
        k: int = 20,
        exclude: Sequence[Collection[str]] | None = None,
    ) -> list[UserScores]:
        """Return top-``k`` items and the propensity curve for each row of ``hidden`` (B, H).

        ``exclude[b]`` lists item ids never recommended to row b (unknown ids are ignored).
        """
        state = self._check_hidden(hidden)
        batch_size = state.shape[0]
        if exclude is not None and len(exclude) != batch_size:
            msg = (
                f"exclude must have one collection per hidden row ({batch_size}, "
                f"got {len(exclude)})"
            )
            raise ValueError(msg)
        if k < 1:
            msg = f"k must be >= 1 (got {k})"
            raise ValueError(msg)
        k = min(k, len(self._item_ids))

        top_values, top_indices = self._weights.top_items(state, k, self._excluded_rows(exclude))
        intercepts, slopes, log_prices = self._weights.heads(state)
        stats = self._artifact.stats
        results = []
        for row in range(batch_size):
            pairs = [
                (self._item_ids[index - 1], value)
                for value, index in zip(top_values[row], top_indices[row], strict=True)
                if value >= 0.0
            ]
            expected_price = 0.0
            if stats.has_prices:
                log_price = log_prices[row] * stats.log_price_std + stats.log_price_mean
                expected_price = math.exp(log_price)
            results.append(
                UserScores(
                    item_ids=tuple(item_id for item_id, _ in pairs),
                    scores=tuple(value for _, value in pairs),
                    propensity=PropensityCurve(intercept=intercepts[row], slope=slopes[row]),
                    expected_price=expected_price,
                )
            )
        return results

    def _excluded_rows(self, exclude: Sequence[Collection[str]] | None) -> list[list[int]] | None:
        """Return the embedding rows of each row's excluded items, without the OOV row."""
        if exclude is None:
            return None
        items = self._artifact.items
        excluded_rows = []
        for excluded in exclude:
            rows = [items.index(item_id) for item_id in excluded]
            excluded_rows.append([index for index in rows if index != OOV_INDEX])
        return excluded_rows

    def hidden_to_bytes(self, hidden_row: np.ndarray) -> bytes:
        """Serialise one hidden row (H,) as H little-endian float32 values."""
        if hidden_row.shape != (self.hidden_size,):
            msg = f"hidden_row must have shape ({self.hidden_size},) (got {hidden_row.shape})"
            raise ValueError(msg)
        return np.ascontiguousarray(hidden_row, dtype="<f4").tobytes()

    def hidden_from_bytes(self, data: bytes) -> np.ndarray:
        """Read a row written by hidden_to_bytes; raise ValueError when the length differs."""
        expected = 4 * self.hidden_size
        if len(data) != expected:
            msg = (
                f"hidden state must be {expected} bytes for hidden size {self.hidden_size} "
                f"(got {len(data)})"
            )
            raise ValueError(msg)
        return np.frombuffer(data, dtype="<f4").astype(np.float32)

    def catalog(self) -> list[CatalogEntry]:
        """Return the vocabulary with reference prices and categories, in embedding order."""
        items = self._artifact.items
        return [
            CatalogEntry(item_id=item_id, reference_price=price, category=category)
            for item_id, price, category in zip(
                items.item_ids, items.reference_prices, items.categories, strict=True
            )
        ]


class _ServingWeights:
    """Float32 numpy copies of the SequenceNet weights that ``step`` and ``score`` use.

    Matrices are stored transposed, so that a batch of rows (B, n) multiplies them directly.
    """

    def __init__(self, net: SequenceNet) -> None:
        def array(tensor: torch.Tensor | torch.nn.Module) -> np.ndarray:
            # nn.Module attribute access is typed Tensor | Module; these are all tensors.
            if not isinstance(tensor, torch.Tensor):
                msg = f"expected a weight tensor, got {type(tensor).__name__}"
                raise TypeError(msg)
            return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=np.float32)

        gru = net.gru
        self.hidden_size: int = gru.hidden_size
        self.item_embedding = array(net.item_embedding.weight)  # (V + 1, item_dim)
        self.event_type_embedding = array(net.encoder.event_type_embedding.weight)
        self.category_embedding = array(net.encoder.category_embedding.weight)
        self.input_size: int = gru.input_size
        self.input_weights = array(gru.weight_ih_l0.T)  # (D, 3H), gates r, z, n
        self.input_bias = array(gru.bias_ih_l0)  # (3H,)
        self.hidden_weights = array(gru.weight_hh_l0.T)  # (H, 3H)
        self.hidden_bias = array(gru.bias_hh_l0)
        self.projection = array(net.item_projection.weight.T)  # (H, item_dim)
        self.projection_bias = array(net.item_projection.bias)
        self.item_embedding_t = array(net.item_embedding.weight.T)  # (item_dim, V + 1)
        self.item_bias = array(net.item_bias)
        self.propensity = array(net.propensity.weight.T)  # (H, 2)
        self.propensity_bias = array(net.propensity.bias)
        self.price_level = array(net.price_level.weight.T)  # (H, 1)
        self.price_level_bias = array(net.price_level.bias)
        # Column ranges of the encoder output, in EventEncoder's concatenation order.
        item_end = self.item_embedding.shape[1]
        type_end = item_end + self.event_type_embedding.shape[1]
        category_end = type_end + self.category_embedding.shape[1]
        self._columns = (item_end, type_end, category_end)

    def fill_input(
        self,
        out: np.ndarray,
        item_row: int,
        type_row: int,
        category_row: int,
        dense: tuple[float, float, float, float, float],
    ) -> None:
        """Write one event's GRU input (D,) into ``out``, as EventEncoder concatenates it."""
        item_end, type_end, category_end = self._columns
        out[:item_end] = self.item_embedding[item_row]
        out[item_end:type_end] = self.event_type_embedding[type_row]
        out[type_end:category_end] = self.category_embedding[category_row]
        out[category_end:] = dense

    def gru_step(self, inputs: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """Return the next hidden states (B, H), with the gate equations of torch.nn.GRU."""
        size = self.hidden_size
        from_input = inputs @ self.input_weights + self.input_bias  # (B, 3H)
        from_hidden = hidden @ self.hidden_weights + self.hidden_bias
        reset = _sigmoid(from_input[:, :size] + from_hidden[:, :size])
        update = _sigmoid(from_input[:, size : 2 * size] + from_hidden[:, size : 2 * size])
        candidate = np.tanh(from_input[:, 2 * size :] + reset * from_hidden[:, 2 * size :])
        return (1.0 - update) * candidate + update * hidden

    def top_items(
        self, hidden: np.ndarray, k: int, excluded_rows: list[list[int]] | None
    ) -> tuple[list[list[float]], list[list[int]]]:
        """Return the ``k`` highest softmax probabilities per row and their embedding rows.

        The OOV row and excluded rows get probability -1, so they come last.
        """
        projected = hidden @ self.projection + self.projection_bias  # (B, item_dim)
        logits = projected @ self.item_embedding_t + self.item_bias  # (B, V + 1)
        logits[:, OOV_INDEX] = -np.inf
        exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = exponentials / exponentials.sum(axis=1, keepdims=True)
        probabilities[:, OOV_INDEX] = -1.0
        if excluded_rows is not None:
            for row, rows in enumerate(excluded_rows):
                if rows:
                    probabilities[row, rows] = -1.0
        # torch.topk on a zero-copy view selects the top k of ~5,000 values several times
        # faster than numpy's argpartition and sort.
        top = torch.topk(torch.from_numpy(probabilities), k, dim=-1)
        top_values = top.values.numpy()
        top_indices = top.indices.numpy()
        return top_values.tolist(), top_indices.tolist()

    def heads(self, hidden: np.ndarray) -> tuple[list[float], list[float], list[float]]:
        """Return intercepts, slopes and standardised log price levels, one per row."""
        propensity = hidden @ self.propensity + self.propensity_bias  # (B, 2)
        slope = -_softplus(propensity[:, 1])
        log_price = (hidden @ self.price_level + self.price_level_bias)[:, 0]
        return propensity[:, 0].tolist(), slope.tolist(), log_price.tolist()


def _sigmoid(values: np.ndarray) -> np.ndarray:
    # The tanh form never overflows, unlike 1 / (1 + exp(-x)) for large negative x.
    return 0.5 + 0.5 * np.tanh(0.5 * values)


def _softplus(values: np.ndarray) -> np.ndarray:
    """Return log(1 + exp(x)), and x itself above 20 as torch's softplus does."""
    clipped = np.minimum(values, 20.0)
    return np.where(values > 20.0, values, np.log1p(np.exp(clipped)))
