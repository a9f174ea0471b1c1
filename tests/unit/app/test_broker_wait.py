import asyncio
import socket
import time

import pytest

from app.broker_wait import BrokerUnavailableError, wait_for_broker


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_wait_for_broker_closed_port_times_out() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError) as caught:
        await wait_for_broker(f"127.0.0.1:{port}", timeout_s=1.0)
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "deploy/kafka/broker.sh start" in str(caught.value)


async def test_wait_for_broker_open_port_returns() -> None:
    server = await asyncio.start_server(lambda reader, writer: writer.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await asyncio.wait_for(wait_for_broker(f"127.0.0.1:{port}", timeout_s=5.0), timeout=10)
    finally:
        server.close()
        await server.wait_closed()
