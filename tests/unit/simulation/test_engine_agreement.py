"""The simulator's pricestream policy prices replayed events as the pricing engine does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from app.engine import Accepted, PricingEngine
from app.pricing import PricingPolicy, Reason
from app.simulation.population import build_population
from app.simulation.signals import model_signals
from app.source import Source
from app.state_store import InMemoryStateStore
from models.logs import read_log
from models.serving import SequenceModel

REES46 = Path("rees46_multicategory_2019oct_head") / "2019-Oct_head_17434rows.csv"


def test_model_policy_matches_engine_decisions(shared_data: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    events = read_log(shared_data / REES46)
    users = list(dict.fromkeys(event.sequence_id for event in events))[:200]
    first_users = set(users)
    # The engine's input: priced views and carts of the first users, without repeats.
    browsing = []
    seen = set()
    for event in events:
        identity = (event.sequence_id, event.item_id, event.time_s, event.event_type)
        if event.sequence_id not in first_users or event.event_type == "purchase":
            continue
        if event.price is None or identity in seen:
            continue
        seen.add(identity)
        browsing.append(event)
    lines = [
        {
            "event_id": f"e{index}",
            "user_id": event.sequence_id,
            "event_time": round(event.time_s * 1000),
            "event_type": event.event_type,
            "item_id": event.item_id,
            "price": event.price,
            "category": event.category,
        }
        for index, event in enumerate(browsing)
    ]
    # One purchase after every other event lets the population calibrate; it is not compared.
    last = browsing[-1]
    lines.append(
        {
            **lines[0],
            "event_id": "buy",
            "event_type": "purchase",
            "event_time": round(last.time_s * 1000) + 60_000,
        }
    )
    log = tmp_path / "events.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    model = SequenceModel.load_default()
    engine = PricingEngine(model, InMemoryStateStore())
    decisions = []
    for offset, line in enumerate(lines[:-1]):
        outcome = engine.process(
            line["user_id"].encode(), json.dumps(line).encode(), Source("events", 0, offset)
        )
        assert isinstance(outcome, Accepted)
        decisions.append(outcome.decision)
    population = build_population(read_log(log), seed=0)
    signals = model_signals(model, population)
    policy = PricingPolicy()

    assert len(population.events) == len(decisions)
    compared = 0
    for event, decision in zip(population.events, decisions, strict=True):
        assert event.item_id == decision.item_id
        if Reason.CHANGE_LIMIT in decision.reasons:
            # The engine also limits changes against earlier recommendation prices, which
            # the simulator does not offer.
            continue
        assert event.price is not None
        quote = policy.quote(event.price, signals[event.index].curve, None, 0)
        assert quote.price == decision.price
        assert decision.purchase_probability is not None
        # Batched and single-row GRU steps differ in the last float32 bits.
        assert quote.purchase_probability == pytest.approx(decision.purchase_probability, rel=1e-4)
        compared += 1
    assert compared >= 0.95 * len(decisions)
