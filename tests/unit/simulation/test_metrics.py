"""Metrics: figures computed by hand on tiny runs, and the guardrail check itself."""

from __future__ import annotations

import pytest

from app.pricing import PolicyConfig, PreviousOffer
from app.simulation.metrics import guardrail_violations, policy_metrics
from app.simulation.runner import OfferRecord, PolicyRun
from tests.unit.simulation.hand_made import hand_made_population


def record(
    pair: int,
    price: float,
    list_price: float = 100.0,
    purchased: bool = False,
    decides: bool = True,
    previous: PreviousOffer | None = None,
    time_ms: int = 0,
) -> OfferRecord:
    return OfferRecord(
        pair=pair,
        event_index=pair,
        event_time_ms=time_ms,
        list_price=list_price,
        price=price,
        personalized=price != list_price,
        reasons=("test",),
        decides=decides,
        purchased=purchased,
        previous=previous,
    )


def test_policy_metrics_hand_computed() -> None:
    population, _ = hand_made_population(pairs=4, seed=0)
    # Pairs 0..3 are items i0..i3, so no item is shared and the spread is 0.
    pairs = population.pairs
    run = PolicyRun(
        name="test",
        offers=(
            record(0, pairs[0].list_price, pairs[0].list_price, purchased=True),
            record(1, 0.8 * pairs[1].list_price, pairs[1].list_price, purchased=True),
            record(2, pairs[2].list_price, pairs[2].list_price),
            record(3, 0.9 * pairs[3].list_price, pairs[3].list_price),
            record(3, pairs[3].list_price, pairs[3].list_price, decides=False),
        ),
    )

    metrics = policy_metrics(run, population, run, PolicyConfig())

    revenue = pairs[0].list_price + 0.8 * pairs[1].list_price
    assert metrics.pairs == 4
    assert metrics.purchases == 2
    assert metrics.revenue == pytest.approx(revenue)
    assert metrics.conversion == pytest.approx(0.5)
    assert metrics.mean_discount == pytest.approx((0.0 + 0.2 + 0.0 + 0.1) / 4)
    assert metrics.mean_discount_purchased == pytest.approx(0.1)
    assert metrics.consumer_surplus == pytest.approx(
        pairs[0].wtp - pairs[0].list_price + pairs[1].wtp - 0.8 * pairs[1].list_price
    )
    assert metrics.personalized_share == pytest.approx(0.5)
    assert metrics.price_spread == 0.0
    assert metrics.oracle_revenue_share == pytest.approx(1.0)


def test_policy_metrics_price_spread_same_item() -> None:
    population, _ = hand_made_population(pairs=41, seed=0)
    # Pairs 0 and 40 share item i0; their list prices differ, so the larger one divides.
    first, second = population.pairs[0], population.pairs[40]
    run = PolicyRun(
        name="test",
        offers=(
            record(0, first.list_price, first.list_price),
            record(40, 0.7 * second.list_price, second.list_price),
        ),
    )

    metrics = policy_metrics(run, population, run, PolicyConfig())

    prices = [first.list_price, 0.7 * second.list_price]
    spread = (max(prices) - min(prices)) / max(first.list_price, second.list_price)
    assert metrics.price_spread == pytest.approx(spread)
    assert metrics.items_with_several_prices == 1.0


def test_guardrail_violations_price_below_floor() -> None:
    run = PolicyRun(name="bad", offers=(record(0, 69.99),))

    problems = guardrail_violations(run, PolicyConfig(max_discount=0.3))

    assert len(problems) == 1
    assert "outside" in problems[0]


def test_guardrail_violations_price_above_list() -> None:
    run = PolicyRun(name="bad", offers=(record(0, 100.01),))

    assert len(guardrail_violations(run, PolicyConfig())) == 1


def test_guardrail_violations_jump_inside_window() -> None:
    previous = PreviousOffer(price=100.0, event_time_ms=0)
    run = PolicyRun(name="bad", offers=(record(0, 85.0, previous=previous, time_ms=60_000),))

    problems = guardrail_violations(run, PolicyConfig(max_change=0.1))

    assert len(problems) == 1
    assert "moved more than 10%" in problems[0]


def test_guardrail_violations_jump_after_window_allowed() -> None:
    previous = PreviousOffer(price=100.0, event_time_ms=0)
    later = 25 * 3600 * 1000
    run = PolicyRun(name="ok", offers=(record(0, 85.0, previous=previous, time_ms=later),))

    assert guardrail_violations(run, PolicyConfig(max_change=0.1)) == []


def test_guardrail_violations_step_within_limit_allowed() -> None:
    previous = PreviousOffer(price=100.0, event_time_ms=0)
    run = PolicyRun(name="ok", offers=(record(0, 90.0, previous=previous, time_ms=1000),))

    assert guardrail_violations(run, PolicyConfig(max_change=0.1)) == []
