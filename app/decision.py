"""PriceDecision, the output record of the pipeline, and its JSON encoding."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "DecisionDecodeError",
    "PriceDecision",
    "Recommendation",
    "decision_id_for",
    "decode_decision",
    "encode_decision",
]

# Namespace of the name-based (version 5) UUIDs used as decision ids.
_DECISION_NAMESPACE = uuid.UUID("6f2c8a4e-3b1d-5e7f-9a0b-1c2d3e4f5a6b")


class DecisionDecodeError(ValueError):
    """Bytes that do not hold a PriceDecision in the layout of encode_decision."""


@dataclass(frozen=True)
class Recommendation:
    """One recommended item with its score and, when its list price is known, its price."""

    item_id: str
    score: float
    list_price: float | None
    price: float | None
    personalized: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PriceDecision:
    """The price offered for the event's item, recommendations, and why.

    ``personalized`` is true when ``price`` differs from the list price rounded down to
    cents because of the model; storefronts use it for the personalized-pricing
    disclosure. ``discount`` is the fraction below list (negative for a markup).
    ``event_time`` and ``decided_at`` are timezone-aware UTC.
    """

    decision_id: str
    event_id: str
    user_id: str
    item_id: str
    list_price: float
    price: float
    discount: float
    purchase_probability: float | None
    personalized: bool
    recommendations: tuple[Recommendation, ...]
    reasons: tuple[str, ...]
    model_version: str
    policy_version: str
    event_time: datetime
    decided_at: datetime


def decision_id_for(user_id: str, event_id: str) -> str:
    """Derive the decision id from the event, so a redelivered event keeps its decision id."""
    return str(uuid.uuid5(_DECISION_NAMESPACE, f"{user_id}\x1f{event_id}"))


def encode_decision(decision: PriceDecision) -> bytes:
    """Encode a decision as one JSON object; times are ISO-8601 with a ``Z`` suffix.

    Raises ValueError when a number is NaN or infinite, because orjson would write it
    as ``null`` and hide the fault.
    """
    document = {
        "decision_id": decision.decision_id,
        "event_id": decision.event_id,
        "user_id": decision.user_id,
        "item_id": decision.item_id,
        "list_price": _finite("list_price", decision.list_price),
        "price": _finite("price", decision.price),
        "discount": _finite("discount", decision.discount),
        "purchase_probability": _finite_or_none(
            "purchase_probability", decision.purchase_probability
        ),
        "personalized": decision.personalized,
        "recommendations": [
            {
                "item_id": recommendation.item_id,
                "score": _finite("score", recommendation.score),
                "list_price": _finite_or_none("list_price", recommendation.list_price),
                "price": _finite_or_none("price", recommendation.price),
                "personalized": recommendation.personalized,
                "reasons": list(recommendation.reasons),
            }
            for recommendation in decision.recommendations
        ],
        "reasons": list(decision.reasons),
        "model_version": decision.model_version,
        "policy_version": decision.policy_version,
        "event_time": decision.event_time.astimezone(UTC),
        "decided_at": decision.decided_at.astimezone(UTC),
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def decode_decision(data: bytes) -> PriceDecision:
    """Decode bytes written by encode_decision; raises DecisionDecodeError."""
    try:
        document = orjson.loads(data)
        return PriceDecision(
            decision_id=document["decision_id"],
            event_id=document["event_id"],
            user_id=document["user_id"],
            item_id=document["item_id"],
            list_price=document["list_price"],
            price=document["price"],
            discount=document["discount"],
            purchase_probability=document["purchase_probability"],
            personalized=document["personalized"],
            recommendations=tuple(
                _decode_recommendation(entry) for entry in document["recommendations"]
            ),
            reasons=tuple(document["reasons"]),
            model_version=document["model_version"],
            policy_version=document["policy_version"],
            event_time=datetime.fromisoformat(document["event_time"]),
            decided_at=datetime.fromisoformat(document["decided_at"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        msg = f"not a price decision: {error}"
        raise DecisionDecodeError(msg) from error


def _decode_recommendation(entry: dict[str, Any]) -> Recommendation:
    return Recommendation(
        item_id=entry["item_id"],
        score=entry["score"],
        list_price=entry["list_price"],
        price=entry["price"],
        personalized=entry["personalized"],
        reasons=tuple(entry["reasons"]),
    )


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        msg = f"decision field '{name}' must be a finite number (got {value!r})"
        raise ValueError(msg)
    return value


def _finite_or_none(name: str, value: float | None) -> float | None:
    return None if value is None else _finite(name, value)
