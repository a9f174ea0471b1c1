"""Create the service's Kafka topics with explicit partition counts."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError, for_code

from app.broker_wait import BrokerUnavailableError, wait_for_broker
from app.settings import Settings

__all__ = [
    "BrokerUnavailableError",
    "TopicCreationError",
    "create_topics",
    "service_topics",
]

log = logging.getLogger(__name__)


class TopicCreationError(RuntimeError):
    """The broker rejected the creation of a topic; ``error_code`` is Kafka's code."""

    def __init__(self, topic: str, error_code: int, message: str | None) -> None:
        reason = message or for_code(error_code).__name__
        super().__init__(f"Kafka rejected topic {topic!r} (error {error_code}): {reason}")
        self.topic = topic
        self.error_code = error_code


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

    Existing topics are left as they are, so running this twice is harmless. Raises
    BrokerUnavailableError when no broker responds within ``timeout_s`` and
    TopicCreationError when the broker rejects a topic (an invalid name, too many
    partitions).
    """
    requested = list(names) if names is not None else service_topics(settings)
    partitions = partitions or settings.partitions
    await wait_for_broker(settings.bootstrap_servers, timeout_s)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=10_000
    )
    try:
        await admin.start()
    except KafkaConnectionError as error:
        msg = f"Kafka broker at {settings.bootstrap_servers} refused the admin connection"
        raise BrokerUnavailableError(msg) from error
    try:
        existing = set(await admin.list_topics())
        created = []
        for name in requested:
            if name in existing:
                continue
            try:
                response = await admin.create_topics(
                    [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
                )
            except TopicAlreadyExistsError:
                continue
            # The broker reports an error code per topic instead of failing the request.
            for topic, error_code, *details in response.topic_errors:
                if error_code == TopicAlreadyExistsError.errno:
                    break
                if error_code != 0:
                    raise TopicCreationError(topic, error_code, details[0] if details else None)
            else:
                created.append(name)
                log.info("created topic %s with %d partitions", name, partitions)
        return created
    finally:
        await admin.close()
