"""The simulators' server (``rcflow.loopback``): an ASGI app on a loopback port in a thread, and
the helpers their raw ASGI handlers share."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from rcflow.loopback import Receive, Scope, Send, ServedApp, bind, close_connection, read_body


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers a request with its body, read through ``read_body`` with a 10-byte limit."""
    body = await read_body(receive, 10)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def test_an_app_is_served_on_a_free_loopback_port_until_it_stops() -> None:
    with ServedApp(_echo, name="echo") as served:
        assert served.host == "127.0.0.1" and served.port > 0
        assert served.root_url == f"http://127.0.0.1:{served.port}"
        answer = httpx.post(served.root_url, content=b"hello")
        assert (answer.status_code, answer.content) == (200, b"hello")
        assert "date" in answer.headers
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.root_url)


def test_the_date_header_can_be_left_to_the_app() -> None:
    with ServedApp(_echo, name="echo", date_header=False) as served:
        assert "date" not in httpx.get(served.root_url).headers


def test_a_port_in_use_is_an_error() -> None:
    taken = bind()
    try:
        with pytest.raises(OSError):
            ServedApp(_echo, name="echo", port=taken.getsockname()[1])
    finally:
        taken.close()


def test_bind_gives_a_listening_non_blocking_tcp_socket() -> None:
    sock = bind()
    try:
        assert sock.getblocking() is False
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        sock.close()


def _messages(*messages: dict) -> Receive:
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0)

    return receive


def test_read_body_joins_the_chunks_and_keeps_at_most_the_limit() -> None:
    chunks = [{"type": "http.request", "body": b"abcd", "more_body": True},
              {"type": "http.request", "body": b"efgh", "more_body": True},
              {"type": "http.request", "body": b"ijkl", "more_body": False}]  # fmt: skip
    assert asyncio.run(read_body(_messages(*chunks), 100)) == b"abcdefghijkl"
    # past the limit the rest is read (and dropped): the app's parsing fails, not the connection
    assert asyncio.run(read_body(_messages(*chunks), 10)) == b"abcdefgh"
    disconnected = [chunks[0], {"type": "http.disconnect"}]
    assert asyncio.run(read_body(_messages(*disconnected), 100)) == b"abcd"


def test_served_app_closes_a_connection_without_an_answer() -> None:
    async def drop(scope: Scope, receive: Receive, send: Send) -> None:
        await close_connection(send)

    with ServedApp(drop, name="dropper") as served, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(served.root_url)


def test_close_connection_outside_uvicorn_aborts_the_response() -> None:
    async def send(message: dict) -> None:
        pass

    with pytest.raises(ConnectionAbortedError):
        asyncio.run(close_connection(send))
