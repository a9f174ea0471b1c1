"""Prometheus metrics of a pricing worker: outcome counters, latency histograms, lag."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from app.engine import ENGINE_STAGES

__all__ = [
    "CONTENT_TYPE",
    "EVENT_TO_DECISION_BUCKETS_S",
    "STAGE_BUCKETS_S",
    "WORKER_STAGES",
    "WorkerMetrics",
]

# The text format version generate_latest writes. It has no charset parameter, because
# aiohttp rejects one in content_type. The text is UTF-8, the format's default.
CONTENT_TYPE = "text/plain; version=0.0.4"

# The engine's stages plus the worker's own: send is the await on
# the producer for the decision or dead letter, which queues the record for the next
# producer batch and does not wait for the broker's acknowledgement.
WORKER_STAGES = (*ENGINE_STAGES, "send")

# Bucket bounds in seconds, dense around the 10 ms end-to-end target.
EVENT_TO_DECISION_BUCKETS_S = (
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
STAGE_BUCKETS_S = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.1,
)

# Engine counter name -> (metric name without _total, help text).
_ENGINE_COUNTERS = {
    "events": ("pricestream_events_consumed", "Records consumed from the events topic."),
    "decisions": ("pricestream_decisions", "Price decisions produced."),
    "duplicates": (
        "pricestream_duplicates",
        "Events dropped because the user already had that event id processed.",
    ),
    "hidden_rebuilds": (
        "pricestream_hidden_rebuilds",
        "Users whose hidden state was rebuilt from recent events for a new model version.",
    ),
    "state_resets": (
        "pricestream_state_resets",
        "Users whose stored state could not be decoded and was started again empty.",
    ),
}
_DEAD_LETTER_PREFIX = "dead_letters."


class _WorkerCollector(Collector):
    """Read the engine counters, readiness and consumer lag when Prometheus scrapes."""

    def __init__(
        self,
        counters: Callable[[], Mapping[str, int]],
        consumer_lag: Callable[[], Mapping[tuple[str, int], int]],
        ready: Callable[[], bool],
    ) -> None:
        self._counters = counters
        self._consumer_lag = consumer_lag
        self._ready = ready

    def collect(self) -> Iterator[Metric]:
        counters = self._counters()
        for key, (name, documentation) in _ENGINE_COUNTERS.items():
            yield CounterMetricFamily(name, documentation, value=counters.get(key, 0))

        dead_letters = CounterMetricFamily(
            "pricestream_dead_letters",
            "Records sent to the dead-letter topic, by reason.",
            labels=["reason"],
        )
        for key, count in sorted(counters.items()):
            if key.startswith(_DEAD_LETTER_PREFIX):
                dead_letters.add_metric([key.removeprefix(_DEAD_LETTER_PREFIX)], count)
        yield dead_letters

        lag = GaugeMetricFamily(
            "pricestream_consumer_lag",
            "Records in an assigned events partition after the last one this worker "
            "processed (high watermark - last processed offset - 1). A partition appears "
            "once the worker has processed a record from it.",
            labels=["topic", "partition"],
        )
        for (topic, partition), records in sorted(self._consumer_lag().items()):
            lag.add_metric([topic, str(partition)], records)
        yield lag

        yield GaugeMetricFamily(
            "pricestream_ready",
            "1 when the worker has its events partitions assigned and table recovery is done.",
            value=1 if self._ready() else 0,
        )


class WorkerMetrics:
    """The Prometheus registry of one worker process and the histograms it fills.

    Counters are read from ``counters`` (the engine's) at scrape time, so counting costs
    nothing per event. ``consumer_lag`` returns records behind per (topic, partition).
    """

    def __init__(
        self,
        counters: Callable[[], Mapping[str, int]],
        consumer_lag: Callable[[], Mapping[tuple[str, int], int]],
        ready: Callable[[], bool],
        model_version: str,
    ) -> None:
        self.registry = CollectorRegistry()
        self._stage_seconds = Histogram(
            "pricestream_stage_seconds",
            "Time spent in each processing stage of one record, in seconds.",
            ["stage"],
            buckets=STAGE_BUCKETS_S,
            registry=self.registry,
        )
        # A label lookup takes a lock and a dict lookup, so bind the children once.
        self._stages = {stage: self._stage_seconds.labels(stage) for stage in WORKER_STAGES}
        self._event_to_decision = Histogram(
            "pricestream_event_to_decision_seconds",
            "Time from the event record's Kafka timestamp to its decision being handed to "
            "the producer, in seconds. Includes time queued in the consumer.",
            buckets=EVENT_TO_DECISION_BUCKETS_S,
            registry=self.registry,
        )
        model_info = Gauge(
            "pricestream_model_info",
            "The loaded model; the version label names it and the value is always 1.",
            ["version"],
            registry=self.registry,
        )
        model_info.labels(model_version).set(1)
        self.registry.register(_WorkerCollector(counters, consumer_lag, ready))

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Record the duration of one stage; ``stage`` must be one of WORKER_STAGES."""
        self._stages[stage].observe(seconds)

    def observe_event_to_decision(self, seconds: float) -> None:
        """Record the time from an event's record timestamp to its decision being sent."""
        self._event_to_decision.observe(max(seconds, 0.0))

    def render(self) -> bytes:
        """Return all metrics in the Prometheus text exposition format."""
        return generate_latest(self.registry)
