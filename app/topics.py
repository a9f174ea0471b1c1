"""Create the service's Kafka topics with explicit partition counts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from app.settings import Settings

__all__ = ["BrokerUnavailableError", "create_topics", "service_topics"]

log = logging.getLogger(__name__)


class BrokerUnavailableError(RuntimeError):
    """The Kafka broker did not answer within the time allowed."""


def service_topics(settings: Settings) -> list[str]:
    """Return the topics the pipeline reads and writes, all with ``settings.partitions``."""
    return [settings.events_topic, settings.prices_topic, settings.deadletter_topic]


async def create_topics(
    settings: Settings,
    names: Iterable[str] | None = None,
    *,
    partitions: int | None = None,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create each topic that does not exist yet; return the names created.

    Existing topics are left as they are, so running this twice is harmless.
    Raises BrokerUnavailableError when no broker answers within ``timeout_s``.
    """
    wanted = list(names) if names is not None else service_topics(settings)
    partitions = partitions or settings.partitions
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=10_000
    )
    await _start_with_retry(admin, settings.bootstrap_servers, timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        created = []
        for name in missing:
            try:
                await admin.create_topics(
                    [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
                )
            except TopicAlreadyExistsError:
                continue
            created.append(name)
            log.info("created topic %s with %d partitions", name, partitions)
        return created
    finally:
        await admin.close()


async def _start_with_retry(
    admin: AIOKafkaAdminClient, bootstrap_servers: str, timeout_s: float
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            await admin.start()
            return
        except KafkaConnectionError as error:
            if loop.time() >= deadline:
                msg = (
                    f"no Kafka broker answered at {bootstrap_servers} within {timeout_s:.0f}s "
                    "(start one with: deploy/kafka/broker.sh start)"
                )
                raise BrokerUnavailableError(msg) from error
            await asyncio.sleep(1.0)
