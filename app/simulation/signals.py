"""The model's output at each replayed event, computed once and shared by the model policies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from app.simulation.population import Population, ReplayEvent
from models.serving import ModelEvent, PropensityCurve, SequenceModel

__all__ = ["ModelSignal", "model_signals"]


@dataclass(frozen=True)
class ModelSignal:
    """Propensity curve and expected price level after the model has read one event."""

    curve: PropensityCurve
    expected_price: float  # 0.0 when the model has no price heads


def model_signals(model: SequenceModel, population: Population) -> tuple[ModelSignal, ...]:
    """Step ``model`` through each user's replayed events; return one signal per event.

    This is what the pricing engine computes per event (one GRU step from the user's
    previous state, then the score), run for all users in batches. The model reads the
    replayed views and carts only, never the simulated purchases, so its output does not
    depend on the policy and can be shared by every policy that uses it.
    """
    by_user: dict[str, list[int]] = defaultdict(list)
    for event in population.events:
        by_user[event.user_id].append(event.index)
    users = list(by_user)
    hidden = model.initial_hidden(len(users))
    signals: list[ModelSignal | None] = [None] * len(population.events)
    longest = max((len(indices) for indices in by_user.values()), default=0)
    for position in range(longest):
        # Rows of the users that still have an event at this position.
        rows = [row for row, user in enumerate(users) if len(by_user[user]) > position]
        replayed = [population.events[by_user[users[row]][position]] for row in rows]
        stepped = model.step(hidden[rows], [_model_event(event) for event in replayed])
        hidden[rows] = stepped
        for event, scores in zip(replayed, model.score(stepped, k=1), strict=True):
            signals[event.index] = ModelSignal(scores.propensity, scores.expected_price)
    return tuple(_present(signal) for signal in signals)


def _model_event(event: ReplayEvent) -> ModelEvent:
    return ModelEvent(
        item_id=event.item_id,
        event_type=event.event_type,
        price=event.price,
        category=event.category,
        seconds_since_previous=event.seconds_since_previous,
    )


def _present(signal: ModelSignal | None) -> ModelSignal:
    assert signal is not None  # every event belongs to exactly one user's sequence
    return signal
