"""Wait until a Kafka broker accepts TCP connections, without a client's error logs."""

from __future__ import annotations

import asyncio
import logging

__all__ = ["BrokerUnavailableError", "wait_for_broker"]

log = logging.getLogger(__name__)


class BrokerUnavailableError(RuntimeError):
    """The Kafka broker did not respond within the time allowed."""


async def wait_for_broker(bootstrap_servers: str, timeout_s: float) -> None:
    """Return once one of ``bootstrap_servers`` (``host:port,...``) accepts a connection.

    Kafka clients log an ERROR line for every refused connection, so a plain TCP probe
    waits for a broker that is still starting. Raises BrokerUnavailableError after
    ``timeout_s`` with the command that starts the local broker.
    """
    servers = [server.strip() for server in bootstrap_servers.split(",") if server.strip()]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    logged = False
    while True:
        for server in servers:
            host, _, port = server.rpartition(":")
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(host.strip("[]"), int(port)), timeout=2.0
                )
            except (OSError, TimeoutError, ValueError):
                continue
            writer.close()
            await writer.wait_closed()
            return
        if loop.time() >= deadline:
            msg = (
                f"no Kafka broker answered at {bootstrap_servers} within {timeout_s:.0f} s "
                "(start one with: deploy/kafka/broker.sh start)"
            )
            raise BrokerUnavailableError(msg)
        if not logged:
            log.info("waiting up to %.0f s for a Kafka broker at %s", timeout_s, bootstrap_servers)
            logged = True
        await asyncio.sleep(1.0)
