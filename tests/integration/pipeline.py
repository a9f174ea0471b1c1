"""A pricing worker on its own topics, fed and read through the real broker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import ConsumerRecord

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
    """What the worker produced: records of the prices and dead-letter topics."""

    decisions: list[dict]
    dead_letters: list[dict]
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
    async def start(cls, broker: Settings, suffix: str, workdir: Path) -> Pipeline:
        """Create the topics and start a worker for them; wait until it answers."""
        env = {
            "PRICESTREAM_BROKER": broker.broker,
            "PRICESTREAM_APP_ID": f"test-pipeline-{suffix}",
            "PRICESTREAM_EVENTS_TOPIC": f"test.{suffix}.events",
            "PRICESTREAM_PRICES_TOPIC": f"test.{suffix}.prices",
            "PRICESTREAM_DEADLETTER_TOPIC": f"test.{suffix}.deadletter",
            "PRICESTREAM_PARTITIONS": "4",
            "PRICESTREAM_DATA_DIR": str(workdir / "state"),
        }
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

    async def publish(self, records: Iterable[LogRecord]) -> int:
        """Send records to the events topic; return how many the broker acknowledged."""
        summary = await publish_records(
            records, self.settings.bootstrap_servers, self.settings.events_topic
        )
        return summary.records

    async def stats(self) -> dict[str, int]:
        """Return the worker's engine counters."""
        return await asyncio.to_thread(self.worker.get_json, "/stats")

    async def wait_processed(self, total: int, timeout_s: float = 240.0) -> dict[str, int]:
        """Wait until the worker has processed ``total`` records since it started."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        stats = await self.stats()
        while stats.get("events", 0) < total:
            if loop.time() > deadline:
                msg = f"worker processed {stats.get('events', 0)} of {total} records: {stats}"
                raise TimeoutError(msg)
            await asyncio.sleep(0.5)
            stats = await self.stats()
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

    def stop(self) -> None:
        """Stop the worker (SIGTERM, clean shutdown)."""
        self.worker.stop()
