"""Constants and a client factory for the hub client's integration tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from rcflow.connectors.efact import HubClient
from rcflow.connectors.efact.simulator.server import RunningSimulator

ISSUER = "hub_client_tests"
SECRET = "client-tests-secret-9f8e7d6c5b4a-0123456789"


def client(sim: RunningSimulator, **kwargs: object) -> HubClient:
    kwargs.setdefault("max_retries", 3)
    return HubClient(sim.base_url, ISSUER, SecretStr(SECRET), **kwargs)  # type: ignore[arg-type]


def read_request(conn: socket.socket) -> bytes:
    """A request's bytes up to its blank line (``b""`` when the client closed first)."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        request += chunk
    return request


@contextmanager
def serving(
    handle: Callable[[socket.socket], None], *, threaded: bool = False
) -> Iterator[tuple[int, list[int]]]:
    """A loopback server handing each accepted connection to ``handle`` (in a thread of its own
    when ``threaded``); yields its port and a list growing by one per connection accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted: list[int] = []
    handlers: list[threading.Thread] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(1)
            if threaded:
                handler = threading.Thread(target=handle, args=(conn,), daemon=True)
                handlers.append(handler)
                handler.start()
            else:
                handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        listener.close()
        for handler in handlers:  # none outlives the test (their clients have closed)
            handler.join(timeout=5)
