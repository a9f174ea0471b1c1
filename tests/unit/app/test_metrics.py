from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from app.metrics import WORKER_STAGES, WorkerMetrics


def _samples(metrics: WorkerMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _metrics(
    counters: dict[str, int] | None = None,
    lag: dict[tuple[str, int], int] | None = None,
    ready: bool = True,
) -> WorkerMetrics:
    return WorkerMetrics(
        counters=lambda: counters or {},
        consumer_lag=lambda: lag or {},
        ready=lambda: ready,
        model_version="gru-test",
    )


def test_metrics_counters_read_from_engine() -> None:
    counters = {
        "events": 7,
        "decisions": 4,
        "duplicates": 1,
        "dead_letters": 2,
        "dead_letters.invalid_json": 1,
        "dead_letters.key_mismatch": 1,
    }
    samples = _samples(_metrics(counters))

    assert samples[("pricestream_events_consumed_total", ())] == 7
    assert samples[("pricestream_decisions_total", ())] == 4
    assert samples[("pricestream_duplicates_total", ())] == 1
    assert samples[("pricestream_dead_letters_total", (("reason", "invalid_json"),))] == 1
    assert samples[("pricestream_dead_letters_total", (("reason", "key_mismatch"),))] == 1


def test_metrics_counters_follow_engine_changes() -> None:
    counters = {"events": 1}
    metrics = _metrics(counters)
    counters["events"] = 5

    assert _samples(metrics)[("pricestream_events_consumed_total", ())] == 5


def test_metrics_missing_counters_are_zero() -> None:
    samples = _samples(_metrics({}))

    assert samples[("pricestream_events_consumed_total", ())] == 0
    assert samples[("pricestream_hidden_rebuilds_total", ())] == 0


def test_metrics_stage_histogram_counts_and_sums() -> None:
    metrics = _metrics()
    metrics.observe_stage("model_step", 0.0004)
    metrics.observe_stage("model_step", 0.0006)
    samples = _samples(metrics)

    step = (("stage", "model_step"),)
    assert samples[("pricestream_stage_seconds_count", step)] == 2
    assert abs(samples[("pricestream_stage_seconds_sum", step)] - 0.001) < 1e-12
    assert samples[("pricestream_stage_seconds_bucket", (("le", "0.0005"), *step))] == 1
    for stage in WORKER_STAGES:
        assert ("pricestream_stage_seconds_count", (("stage", stage),)) in samples


def test_metrics_event_to_decision_negative_clamped() -> None:
    metrics = _metrics()
    metrics.observe_event_to_decision(-0.002)
    metrics.observe_event_to_decision(0.004)
    samples = _samples(metrics)

    assert samples[("pricestream_event_to_decision_seconds_count", ())] == 2
    assert samples[("pricestream_event_to_decision_seconds_bucket", (("le", "0.001"),))] == 1
    assert samples[("pricestream_event_to_decision_seconds_bucket", (("le", "0.005"),))] == 2


def test_metrics_lag_ready_and_model_version() -> None:
    lag = {("events", 0): 12, ("events", 3): 0}
    samples = _samples(_metrics(lag=lag, ready=False))

    assert samples[("pricestream_consumer_lag", (("partition", "0"), ("topic", "events")))] == 12
    assert samples[("pricestream_consumer_lag", (("partition", "3"), ("topic", "events")))] == 0
    assert samples[("pricestream_ready", ())] == 0
    assert samples[("pricestream_model_info", (("version", "gru-test"),))] == 1


def test_metrics_two_instances_do_not_collide() -> None:
    first, second = _metrics({"events": 1}), _metrics({"events": 2})

    assert _samples(first)[("pricestream_events_consumed_total", ())] == 1
    assert _samples(second)[("pricestream_events_consumed_total", ())] == 2
