"""Hand-made populations for the simulator tests, built without a log or a model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from app.simulation.population import (
    BuyerPair,
    Calibration,
    Population,
    PopulationAssumptions,
    ReplayEvent,
)
from app.simulation.signals import ModelSignal
from models.serving import PropensityCurve

HandMade = tuple[Population, tuple[ModelSignal, ...]]


def hand_made_population(
    pairs: int = 300,
    seed: int = 0,
    events_per_pair: int = 2,
    curve: PropensityCurve | None = None,
    level: float | None = None,
    spread: float | None = None,
    list_price_steps: tuple[float, ...] = (1.0,),
) -> HandMade:
    """Build ``pairs`` buyers, one user each, with varied hidden parameters.

    Every pair has ``events_per_pair`` priced views 10 minutes apart; the last one decides.
    The list price of view k is the pair's list price times
    ``list_price_steps[k % len(list_price_steps)]``. Every event carries the same model
    signal, ``curve`` (a mildly elastic one by default). ``level`` and ``spread`` fix the
    willingness-to-pay parameters of every buyer instead of drawing them.
    """
    rng = np.random.default_rng(seed)
    curve = curve or PropensityCurve(intercept=-2.0, slope=-1.5)
    buyer_pairs = []
    events = []
    for index in range(pairs):
        base_price = float(round(rng.uniform(5.0, 500.0), 2))
        shown_prices = [
            round(base_price * list_price_steps[step % len(list_price_steps)], 2)
            for step in range(events_per_pair)
        ]
        list_price = shown_prices[-1]  # the pair's list price is the deciding event's
        wtp_level = float(rng.normal(0.0, 0.3)) if level is None else level
        wtp_spread = float(math.exp(rng.normal(math.log(0.25), 0.3))) if spread is None else spread
        interest = float(rng.uniform(0.05, 0.6))
        buyer_pairs.append(
            BuyerPair(
                user_id=f"u{index}",
                item_id=f"i{index % 40}",
                category="c",
                list_price=list_price,
                carted=False,
                logged_purchase=False,
                price_level=0.0,
                interest=interest,
                wtp_level=wtp_level,
                wtp_spread=wtp_spread,
                interested=bool(rng.random() < interest),
                wtp=list_price * math.exp(wtp_level + wtp_spread * float(rng.logistic())),
            )
        )
        for step in range(events_per_pair):
            events.append(
                ReplayEvent(
                    index=len(events),
                    user_id=f"u{index}",
                    item_id=f"i{index % 40}",
                    event_type="view",
                    time_s=1_570_000_000.0 + 60.0 * index + 600.0 * step,
                    price=shown_prices[step],
                    category="c",
                    seconds_since_previous=None if step == 0 else 600.0,
                    pair=index,
                    decides=step == events_per_pair - 1,
                )
            )
    events.sort(key=lambda event: (event.time_s, event.index))
    # Indices must follow the replay order, as build_population produces them.
    renumbered = tuple(replace(event, index=position) for position, event in enumerate(events))
    calibration = Calibration(
        users=pairs,
        pairs=pairs,
        carted_pairs=0,
        logged_purchases=0,
        view_only_rate=0.0,
        carted_rate=0.0,
        categories=1,
        mean_list_acceptance=0.5,
        expected_list_conversion=0.0,
    )
    population = Population(
        events=renumbered,
        pairs=tuple(buyer_pairs),
        calibration=calibration,
        assumptions=PopulationAssumptions(),
        seed=seed,
    )
    signals = tuple(ModelSignal(curve=curve, expected_price=100.0) for _ in renumbered)
    return population, signals
