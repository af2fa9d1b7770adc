"""Keep-alive connections the hub closes between requests: found before reuse when idle, retried
when the close comes right after an answer (the check is skipped for a connection busy a moment ago)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from rcflow.connectors.efact import http as hub_http
from rcflow.connectors.efact.auth import JwtSigner

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """Answers one request per connection, then closes it without saying so (no Connection: close)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                if request:
                    conn.sendall(ANSWER)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", accepted
    stop.set()
    thread.join()
    listener.close()


def _client(url: str) -> hub_http.Http:
    return hub_http.Http(url, JwtSigner("issuer", SecretStr("a-secret-of-some-length-0123456789")))


def test_an_idle_connection_the_hub_closed_is_replaced_before_use(
    closing_server: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, accepted = closing_server
    monkeypatch.setattr(hub_http, "IDLE_CHECK", 0.05)
    client = _client(url)
    assert client.json("GET", "ens").body == b"{}"
    time.sleep(0.2)
    assert client.json("GET", "ens").body == b"{}"
    assert client.stats.retries == 0 and len(accepted) == 2


def test_a_close_right_after_an_answer_is_retried(
    closing_server: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, accepted = closing_server
    monkeypatch.setattr(hub_http, "IDLE_CHECK", 60.0)
    client = _client(url)
    assert client.json("GET", "ens").body == b"{}"
    time.sleep(0.05)  # the hub has closed it; the connection was busy a moment ago: not checked
    assert client.json("GET", "ens").body == b"{}"
    assert client.stats.retries == 1 and len(accepted) == 2
