"""Runner: seeded determinism, the oracle as upper bound, guardrails for every policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.pricing import PolicyConfig, PricingPolicy
from app.simulation.metrics import guardrail_violations, policy_metrics
from app.simulation.policies import (
    ListPricePolicy,
    ModelPolicy,
    OraclePolicy,
    ThompsonPolicy,
    UniformDiscountPolicy,
)
from app.simulation.runner import expected_revenue, run_policy, run_simulation, uniform_levels
from models.serving import PropensityCurve
from tests.unit.simulation.hand_made import hand_made_population


def test_uniform_levels_whole_percent_up_to_max() -> None:
    levels = uniform_levels(0.3)

    assert levels[0] == 0.0
    assert levels[-1] == 0.3
    assert len(levels) == 31


def test_run_simulation_same_seed_same_result() -> None:
    population, signals = hand_made_population(pairs=200, seed=5)

    first = run_simulation(population, signals)
    second = run_simulation(population, signals)

    assert first == second


def test_run_simulation_seed_changes_thompson() -> None:
    population, signals = hand_made_population(pairs=200, seed=5)
    reseeded = replace(population, seed=6)

    first = run_simulation(population, signals).runs[3]
    second = run_simulation(reseeded, signals).runs[3]

    assert first.name == "pricestream + Thompson"
    assert [offer.price for offer in first.offers] != [offer.price for offer in second.offers]


def test_run_simulation_order_and_best_uniform() -> None:
    population, signals = hand_made_population(pairs=200, seed=1)

    result = run_simulation(population, signals)

    names = [run.name for run in result.runs]
    assert names[0] == "list price"
    assert names[1].startswith("uniform ")
    assert names[2:] == ["pricestream", "pricestream + Thompson", "oracle"]
    best = max(expected for _, expected, _ in result.uniform_search)
    chosen = [row for row in result.uniform_search if row[0] == result.best_uniform_discount]
    assert chosen[0][1] == best
    assert expected_revenue(result.runs[1], population) == best


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_oracle_expected_revenue_highest(seed: int) -> None:
    population, signals = hand_made_population(pairs=300, seed=seed)
    pricing = PricingPolicy()
    oracle = run_policy(population, signals, OraclePolicy(pricing))
    others = [
        ListPricePolicy(pricing),
        ModelPolicy(pricing),
        ThompsonPolicy(pricing, seed=seed),
        *(UniformDiscountPolicy(pricing, level) for level in uniform_levels(0.3, step=0.05)),
    ]

    oracle_revenue = expected_revenue(oracle, population)
    for policy in others:
        revenue = expected_revenue(run_policy(population, signals, policy), population)
        assert oracle_revenue >= revenue - 1e-9, policy.name


def test_oracle_beats_list_on_hand_made_population() -> None:
    population, signals = hand_made_population(pairs=300, seed=0)
    pricing = PricingPolicy()

    oracle = expected_revenue(run_policy(population, signals, OraclePolicy(pricing)), population)
    listed = expected_revenue(run_policy(population, signals, ListPricePolicy(pricing)), population)

    # Buyers here have a spread of willingness to pay, so some discounts pay off.
    assert oracle > 1.01 * listed


@pytest.mark.parametrize(
    "curve",
    [
        PropensityCurve(intercept=-2.0, slope=-1.5),
        PropensityCurve(intercept=3.0, slope=-40.0),
        PropensityCurve(intercept=-9.0, slope=-0.1),
    ],
)
def test_every_policy_respects_guardrails(curve: PropensityCurve) -> None:
    # List prices jump by -40% and +60% between views, so the change limit must act.
    population, signals = hand_made_population(
        pairs=150, seed=2, events_per_pair=4, curve=curve, list_price_steps=(1.0, 0.6, 1.6, 1.0)
    )
    config = PolicyConfig(max_discount=0.3, max_change=0.1)

    result = run_simulation(population, signals, config)

    for run in result.runs:
        assert guardrail_violations(run, config) == []
        for offer in run.offers:
            assert offer.list_price * 0.7 - 1e-9 <= offer.price <= offer.list_price
            assert offer.reasons


def test_change_limit_binds_for_changing_list_prices() -> None:
    population, signals = hand_made_population(
        pairs=50, seed=2, events_per_pair=3, list_price_steps=(1.0, 0.9, 1.0)
    )

    run = run_policy(population, signals, UniformDiscountPolicy(PricingPolicy(), 0.25))

    limited = [offer for offer in run.offers if "change_limit" in offer.reasons]
    assert limited
    for offer in limited:
        assert offer.previous is not None
        assert abs(offer.price - offer.previous.price) <= 0.1 * offer.previous.price + 0.01


def test_thompson_learns_best_discount() -> None:
    # Every buyer wants the item and is very price sensitive, so 30% off earns most.
    population, signals = hand_made_population(pairs=1500, seed=4, level=-0.2, spread=0.1)
    policy = ThompsonPolicy(PricingPolicy(), seed=4)

    run = run_policy(population, signals, policy)

    late = run.decisions[-500:]
    deep = [offer for offer in late if offer.price <= 0.76 * offer.list_price]
    assert len(deep) / len(late) > 0.6


def test_thompson_levels_above_max_discount_rejected() -> None:
    with pytest.raises(ValueError, match="'levels' must hold a discount <= max_discount"):
        ThompsonPolicy(PricingPolicy(PolicyConfig(max_discount=0.1)), seed=0, levels=[0.2])


def test_metrics_oracle_share_is_one_for_oracle() -> None:
    population, signals = hand_made_population(pairs=200, seed=9)
    config = PolicyConfig()
    result = run_simulation(population, signals, config)
    oracle = result.runs[-1]

    metrics = policy_metrics(oracle, population, oracle, config)

    assert metrics.oracle_expected_revenue_share == pytest.approx(1.0)
    assert metrics.oracle_revenue_share == pytest.approx(1.0)
    assert metrics.oracle_discount_correlation == pytest.approx(1.0)
    assert metrics.pairs == 200


def test_metrics_list_price_discount_correlation_zero() -> None:
    population, signals = hand_made_population(pairs=200, seed=9)
    config = PolicyConfig()
    result = run_simulation(population, signals, config)

    metrics = policy_metrics(result.runs[0], population, result.runs[-1], config)

    # List price gives every pair the same (zero) discount, so no correlation is defined.
    assert metrics.oracle_discount_correlation == 0.0
    assert metrics.mean_discount == 0.0
