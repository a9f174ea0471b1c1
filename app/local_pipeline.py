"""A pricing worker on its own topics, fed and read through a real broker.

The demo, the integration tests and the benchmark use it to run the whole pipeline on
one machine: topics with a per-run suffix, a worker child process, a publisher and readers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.kafka_publisher import publish_records
from app.log_sources import LogRecord
from app.settings import Settings
from app.topic_reader import read_topic
from app.topics import create_topics
from app.worker_process import WorkerProcess


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Outputs:
    """Records the worker produced on the prices and dead-letter topics."""

    decisions: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    stats: dict[str, int]

    @property
    def duplicates(self) -> int:
        """Duplicates the worker counted (they produce no record)."""
        return self.stats.get("duplicates", 0)


@dataclass
class Pipeline:
    """A worker process with its own app id, topics and state folder."""

    settings: Settings
    env: dict[str, str]
    worker: WorkerProcess

    @classmethod
    async def start(
        cls, broker: Settings, suffix: str, workdir: Path, *, prefix: str = "test"
    ) -> Pipeline:
        """Create the topics and start a worker for them; wait until it responds.

        Topics are named ``<prefix>.<suffix>.events`` and so on, and the app id
        ``<prefix>-pipeline-<suffix>``, so runs never share state or offsets.
        """
        env = {
            "PRICESTREAM_BROKER": broker.broker,
            "PRICESTREAM_APP_ID": f"{prefix}-pipeline-{suffix}",
            "PRICESTREAM_EVENTS_TOPIC": f"{prefix}.{suffix}.events",
            "PRICESTREAM_PRICES_TOPIC": f"{prefix}.{suffix}.prices",
            "PRICESTREAM_DEADLETTER_TOPIC": f"{prefix}.{suffix}.deadletter",
            "PRICESTREAM_PARTITIONS": str(broker.partitions),
            "PRICESTREAM_DATA_DIR": str(workdir / "state"),
        }
        if broker.model_dir is not None:
            env["PRICESTREAM_MODEL_DIR"] = str(broker.model_dir)
        settings = Settings.from_env(env)
        await create_topics(settings)
        worker = WorkerProcess(env, workdir / "worker.log", web_port=free_port())
        pipeline = cls(settings, env, worker)
        await pipeline.start_worker()
        return pipeline

    async def start_worker(self) -> None:
        """(Re)start the worker process and wait for its health endpoint."""
        self.worker.start()
        await asyncio.to_thread(self.worker.wait_ready, 120.0)

    async def publish(
        self, records: Iterable[LogRecord], on_record: Callable[[], None] | None = None
    ) -> int:
        """Send records to the events topic; return how many the broker acknowledged."""
        summary = await publish_records(
            records,
            self.settings.bootstrap_servers,
            self.settings.events_topic,
            on_record=on_record,
        )
        return summary.records

    async def stats(self) -> dict[str, int]:
        """Return the worker's engine counters."""
        stats: dict[str, int] = await asyncio.to_thread(self.worker.get_json, "/stats")
        return stats

    async def wait_processed(
        self,
        total: int,
        timeout_s: float = 240.0,
        on_progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Wait until the worker has processed ``total`` records since it started.

        ``on_progress`` gets the processed count after each poll. Raises TimeoutError
        when the count makes no progress for ``timeout_s``.
        """
        return await self.wait_counter("events", total, timeout_s, on_progress)

    async def wait_counter(
        self,
        counter: str,
        total: int,
        timeout_s: float = 240.0,
        on_progress: Callable[[int], None] | None = None,
    ) -> dict[str, int]:
        """Wait until the worker's engine counter ``counter`` reaches ``total``.

        Returns all counters at that moment. Raises TimeoutError when the counter makes
        no progress for ``timeout_s``.
        """
        loop = asyncio.get_running_loop()
        stats = await self.stats()
        processed = stats.get(counter, 0)
        last_progress = loop.time()
        while processed < total:
            if on_progress is not None:
                on_progress(processed)
            if loop.time() - last_progress > timeout_s:
                msg = (
                    f"worker counter {counter!r} is {processed} of {total} and made no "
                    f"progress for {timeout_s:.0f} s; see {self.worker.log_path}"
                )
                raise TimeoutError(msg)
            await asyncio.sleep(0.5)
            stats = await self.stats()
            if stats.get(counter, 0) > processed:
                processed = stats.get(counter, 0)
                last_progress = loop.time()
        if on_progress is not None:
            on_progress(processed)
        return stats

    async def read_outputs(
        self, decisions: int, dead_letters: int, timeout_s: float = 120.0
    ) -> tuple[list[ConsumerRecord], list[ConsumerRecord]]:
        """Read the prices and dead-letter topics until the given counts have arrived."""
        bootstrap = self.settings.bootstrap_servers
        prices = await read_topic(
            bootstrap,
            self.settings.prices_topic,
            until=lambda records: len(records) >= decisions,
            timeout_s=timeout_s,
        )
        letters = await read_topic(
            bootstrap,
            self.settings.deadletter_topic,
            until=lambda records: len(records) >= dead_letters,
            timeout_s=timeout_s,
        )
        return prices, letters

    async def collect(self, expected_records: int) -> Outputs:
        """Wait for ``expected_records`` to be processed and read what came out of Kafka."""
        stats = await self.wait_processed(expected_records)
        prices, letters = await self.read_outputs(
            stats.get("decisions", 0), stats.get("dead_letters", 0)
        )
        return Outputs(
            decisions=[orjson.loads(record.value) for record in prices],
            dead_letters=[orjson.loads(record.value) for record in letters],
            stats=stats,
        )

    async def wait_committed(self, timeout_s: float = 60.0) -> None:
        """Wait until the worker's consumer group has committed every events record.

        Faust commits offsets every few seconds. A worker stopped before its last commit
        gets the uncommitted records again after a restart (at-least-once delivery); the
        engine then counts them as duplicates. Waiting here makes a restart exact.
        """
        bootstrap = self.settings.bootstrap_servers
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await consumer.start()
        await admin.start()
        try:
            partitions = [
                TopicPartition(self.settings.events_topic, partition)
                for partition in range(self.settings.partitions)
            ]
            end = await consumer.end_offsets(partitions)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while True:
                committed = await admin.list_consumer_group_offsets(
                    self.settings.app_id, partitions=partitions
                )
                behind = {
                    tp: end[tp] - (committed[tp].offset if tp in committed else 0)
                    for tp in partitions
                    if end[tp] > (committed[tp].offset if tp in committed else 0)
                }
                if not behind:
                    return
                if loop.time() > deadline:
                    msg = f"worker did not commit its offsets within {timeout_s:.0f} s: {behind}"
                    raise TimeoutError(msg)
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
            await consumer.stop()

    def stop(self) -> None:
        """Stop the worker (SIGTERM, clean shutdown)."""
        self.worker.stop()
