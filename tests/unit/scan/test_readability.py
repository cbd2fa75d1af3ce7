"""The pool's idle-connection check answers as httpcore's own does, over real sockets."""

from __future__ import annotations

import asyncio

import httpcore
import httpx
import pytest

from image_bot.scan.readability import ReadabilityBackend, ReadabilityStream, install


async def _server() -> tuple[asyncio.Server, int, asyncio.Queue[asyncio.StreamWriter]]:
    accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await accepted.put(writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


async def _eventually_readable(stream: httpcore.AsyncNetworkStream) -> bool:
    for _ in range(200):
        if stream.get_extra_info("is_readable"):
            return True
        await asyncio.sleep(0.005)
    return False


@pytest.mark.parametrize("server_does", ["close", "write"])
def test_an_idle_connection_turns_readable_when_the_server_closes_or_speaks(
    server_does: str,
) -> None:
    async def scenario() -> None:
        server, port, accepted = await _server()
        async with server:
            inner = httpcore.AnyIOBackend()
            stream = await ReadabilityBackend(inner).connect_tcp("127.0.0.1", port)
            assert isinstance(stream, ReadabilityStream)
            writer = await accepted.get()
            assert stream.get_extra_info("is_readable") is False
            assert stream.get_extra_info("socket") is not None  # passed through
            if server_does == "close":
                writer.close()
                await writer.wait_closed()
            else:
                writer.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
                await writer.drain()
            assert await _eventually_readable(stream)
            assert stream._inner.get_extra_info("is_readable") is True  # httpcore agrees
            await stream.aclose()
            assert stream.get_extra_info("is_readable") is True  # closed: readable, as before
            writer.close()
            await writer.wait_closed()

    asyncio.run(scenario())


def test_requests_through_an_installed_client_reuse_and_drop_connections_as_before() -> None:
    async def scenario() -> None:
        connections = 0

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                for _ in range(2):  # two requests on a connection, then the server drops it
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    await writer.drain()
            except asyncio.IncompleteReadError:
                pass  # the client closed it first (at the end)
            finally:
                writer.close()

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert install(client) is True
            assert install(client) is True  # once is enough; again changes nothing
            pool = client._transport._pool  # type: ignore[attr-defined]
            assert isinstance(pool._network_backend, ReadabilityBackend)
            assert not isinstance(pool._network_backend.inner, ReadabilityBackend)
            for _ in range(2):
                assert (await client.get("/")).text == "ok"
            assert connections == 1  # the second request reused the connection
            await asyncio.sleep(0.05)  # the server has closed it meanwhile
            assert (await client.get("/")).text == "ok"  # on a new one, not an error
            assert connections == 2

    asyncio.run(scenario())


def test_a_client_with_another_transport_is_left_as_it_is() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(204)))
    assert install(client) is False
