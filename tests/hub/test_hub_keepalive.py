"""Keep-alive connections the hub closes between requests are found before reuse: a new
connection, not a failed request and a retry."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import time
from collections.abc import Iterator

import pytest
from hub_support import read_request, serving
from pydantic import SecretStr

from rcflow.connectors.efact import http as hub_http
from rcflow.connectors.efact.auth import JwtSigner

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """Answers one request per connection, then closes it without saying so (no Connection: close)."""

    def answer_once(conn: socket.socket) -> None:
        with conn:
            if read_request(conn):
                conn.sendall(ANSWER)

    with serving(answer_once) as (port, accepted):
        yield f"http://127.0.0.1:{port}/", accepted


def _keep_alive(conn: socket.socket) -> None:
    """Answers every request on the connection until the client closes it."""
    with conn:
        while read_request(conn):
            conn.sendall(ANSWER)


def _client(url: str, **kwargs: float) -> hub_http.Http:
    return hub_http.Http(url, JwtSigner("issuer", SecretStr("a-secret-of-some-length-0123456789")), **kwargs)  # type: ignore[arg-type]


def test_a_connection_the_hub_closed_is_replaced_before_use(closing_server: tuple[str, list[int]]) -> None:
    url, accepted = closing_server
    client = _client(url)

    async def three() -> None:
        for _ in range(3):
            assert (await client.json("GET", "ens")).body == b"{}"
            await asyncio.sleep(0.05)  # the hub closes the connection after each answer
        client.close()

    asyncio.run(three())
    assert client.stats.retries == 0 and len(accepted) == 3


def test_a_close_the_event_loop_has_not_read_yet_is_found_too(closing_server: tuple[str, list[int]]) -> None:
    """The hub's close has reached the socket but the loop has not run since: the connection is
    still not reused (a PATCH sent on it would fail, and is never retried)."""
    url, accepted = closing_server
    client = _client(url)

    async def two() -> None:
        assert (await client.json("GET", "ens")).body == b"{}"
        time.sleep(0.05)  # blocking: the close arrives, the event loop does not run
        assert (await client.json("GET", "ens")).body == b"{}"
        client.close()

    asyncio.run(two())
    assert client.stats.retries == 0 and len(accepted) == 2


def test_a_client_used_under_a_second_event_loop_starts_afresh() -> None:
    """A connection kept alive under one ``asyncio.run`` belongs to that loop: the next one opens
    its own rather than waiting on a loop that no longer runs, and the old one is ended for the
    hub (its loop cannot close it any more)."""
    ended: list[int] = []

    def keep_alive(conn: socket.socket) -> None:
        _keep_alive(conn)
        ended.append(1)

    with serving(keep_alive, threaded=True) as (port, accepted):
        client = _client(f"http://127.0.0.1:{port}/", timeout=2, max_retries=0)
        for _ in range(2):
            assert asyncio.run(client.json("GET", "ens")).body == b"{}"
        client.close()
        deadline = time.monotonic() + 2
        while len(ended) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(ended) == 2  # both connections ended, the first loop's too
    assert len(accepted) == 2 and client.stats.requests == 2 and client.stats.retries == 0


def test_a_connection_numbered_past_1024_is_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long-lived process may hold many descriptors: the idle check has no limit on their number
    (``select()`` refuses descriptors past 1023), so such a connection is kept alive, not replaced."""

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("this machine allows too few descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with serving(_keep_alive, threaded=True) as (port, accepted):
            client = _client(f"http://127.0.0.1:{port}/")

            async def three() -> None:
                for _ in range(3):
                    assert (await client.json("GET", "ens")).body == b"{}"
                client.close()

            asyncio.run(three())
        assert len(accepted) == 1 and client.stats.retries == 0
    finally:
        for fd in spare:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
