"""The GRU network: event encoder, recurrent core and three heads, in plain PyTorch.

The module does no I/O. ``SequenceNet.forward`` runs whole padded sequences for training;
serving calls the same forward with sequences of length 1 and the stored hidden state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional

from models.features import DENSE_FEATURE_NAMES, EVENT_TYPES

__all__ = ["EventBatch", "GRUConfig", "HeadOutputs", "SequenceNet"]


@dataclass(frozen=True)
class GRUConfig:
    """Sizes of the network; ``num_items`` and ``num_categories`` exclude the OOV row."""

    num_items: int
    num_categories: int
    item_dim: int = 48
    category_dim: int = 8
    event_type_dim: int = 4
    hidden_size: int = 64
    dropout: float = 0.2

    def to_json(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready mapping."""
        return asdict(self)


class EventBatch(NamedTuple):
    """Encoded events of B sequences padded to length T."""

    items: torch.Tensor  # (B, T) int64 item rows, 0 = OOV
    event_types: torch.Tensor  # (B, T) int64 rows of EVENT_TYPES
    categories: torch.Tensor  # (B, T) int64 category rows, 0 = unknown
    dense: torch.Tensor  # (B, T, len(DENSE_FEATURE_NAMES)) float32


class HeadOutputs(NamedTuple):
    """What the heads read from hidden states of shape (..., H)."""

    intercept: torch.Tensor  # (...,) propensity logit at the reference price
    slope: torch.Tensor  # (...,) d logit / d log(price / reference), always <= 0
    log_price: torch.Tensor  # (...,) standardised log of the expected price level


class EventEncoder(nn.Module):
    """Turn an event batch into GRU inputs: embeddings and dense features, concatenated.

    The item embedding belongs to SequenceNet, which shares it with the next-item head, so
    the encoder receives the looked-up item vectors.
    """

    def __init__(self, config: GRUConfig) -> None:
        super().__init__()
        self.event_type_embedding = nn.Embedding(len(EVENT_TYPES), config.event_type_dim)
        self.category_embedding = nn.Embedding(config.num_categories + 1, config.category_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = (
            config.item_dim + config.event_type_dim + config.category_dim + len(DENSE_FEATURE_NAMES)
        )

    def forward(self, batch: EventBatch, item_vectors: torch.Tensor) -> torch.Tensor:
        parts = [
            self.dropout(item_vectors),  # (B, T, item_dim)
            self.event_type_embedding(batch.event_types),  # (B, T, event_type_dim)
            self.category_embedding(batch.categories),  # (B, T, category_dim)
            batch.dense,  # (B, T, dense)
        ]
        return torch.cat(parts, dim=-1)


class SequenceNet(nn.Module):
    """GRU over a user's events with next-item, purchase-propensity and price-level heads.

    The next-item head shares its weights with the input item embedding (tied): the score of
    item i is ``project(h) . E[i] + bias[i]``.
    """

    def __init__(self, config: GRUConfig) -> None:
        super().__init__()
        self.config = config
        self.item_embedding = nn.Embedding(config.num_items + 1, config.item_dim)
        nn.init.normal_(self.item_embedding.weight, std=0.05)
        self.encoder = EventEncoder(config)
        self.gru = nn.GRU(self.encoder.output_size, config.hidden_size, batch_first=True)
        self.item_projection = nn.Linear(config.hidden_size, config.item_dim)
        self.item_bias = nn.Parameter(torch.zeros(config.num_items + 1))
        self.propensity = nn.Linear(config.hidden_size, 2)
        self.price_level = nn.Linear(config.hidden_size, 1)

    def forward(
        self, batch: EventBatch, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the GRU; return states (B, T, H) after each event and the last state (B, H).

        ``hidden`` (B, H) is the state before the first event, zeros when None.
        """
        inputs = self.encoder(batch, self.item_embedding(batch.items))  # (B, T, D)
        initial = None if hidden is None else hidden.unsqueeze(0)  # (1, B, H)
        states, last = self.gru(inputs, initial)  # (B, T, H), (1, B, H)
        return states, last.squeeze(0)

    def item_logits(self, states: torch.Tensor) -> torch.Tensor:
        """Return next-item logits (..., num_items + 1) for hidden states (..., H)."""
        projected = self.item_projection(states)  # (..., item_dim)
        return projected @ self.item_embedding.weight.T + self.item_bias

    def heads(self, states: torch.Tensor) -> HeadOutputs:
        """Return propensity curve parameters and price level for hidden states (..., H)."""
        propensity = self.propensity(states)  # (..., 2)
        return HeadOutputs(
            intercept=propensity[..., 0],
            slope=-functional.softplus(propensity[..., 1]),
            log_price=self.price_level(states).squeeze(-1),
        )
