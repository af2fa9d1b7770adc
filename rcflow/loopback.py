"""An ASGI app served by uvicorn on a loopback socket, and the ASGI helpers hand-written apps share.

The eFACT and FACe simulators, the misbehaving front and the efirma GO simulator are served the
same way: :class:`ServedApp` runs one in a daemon thread (the tests, the demo, the benches) and is a
context manager; :func:`serve_forever` runs one in the calling thread until Ctrl-C or SIGTERM (the
simulators' commands). :func:`read_body` and :func:`close_connection` are what their raw ASGI
handlers need of the protocol. A leaf: imports the standard library and uvicorn only.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

HOST = "127.0.0.1"
BACKLOG = 2048  # a bench opens hundreds of connections at once
STARTUP_SECONDS = 15.0


def bind(host: str = HOST, port: int = 0) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (port 0: a free one)."""
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _config(app: App, *, quiet: bool, date_header: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app, lifespan="off", access_log=False, log_config=None,
        log_level="critical" if quiet else "warning", timeout_graceful_shutdown=1,
        timeout_keep_alive=30, backlog=BACKLOG, date_header=date_header,
    )  # fmt: skip


class ServedApp:
    """``app`` served on ``host:port`` (0: a free port) in a daemon thread; a context manager.

    ``name`` names the thread and the error when the server does not start; ``date_header=False``
    leaves the Date header to the app (a simulated hub shows its own clock)."""

    def __init__(self, app: App, *, name: str, port: int = 0, host: str = HOST, date_header: bool = True):
        sock = bind(host, port)
        server = uvicorn.Server(_config(app, quiet=True, date_header=date_header))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name=f"{name} on {sock.getsockname()[1]}", daemon=True)  # fmt: skip
        thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError(f"the {name} did not start")
            time.sleep(0.005)
        self._server, self._thread, self._sock = server, thread, sock
        self.host, self.port = sock.getsockname()[:2]
        self.root_url = f"http://{self.host}:{self.port}"

    def wait(self) -> None:
        """Block until the server stops."""
        self._thread.join()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(app: App, sock: socket.socket, *, date_header: bool = True) -> None:
    """Serve ``app`` on ``sock`` (from :func:`bind`) in this thread until Ctrl-C or SIGTERM stop it
    cleanly; warnings and errors are logged, requests are not. Closes ``sock``."""
    server = uvicorn.Server(_config(app, quiet=False, date_header=date_header))
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


async def read_body(receive: Receive, limit: int) -> bytes:
    """A request's body, of which at most ``limit`` bytes are kept (the rest is read and dropped,
    so an oversize body fails the app's parsing, not the connection)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def close_connection(send: Send) -> None:
    """Close the client's connection without an answer (under uvicorn, ``send`` is bound to the
    request's cycle, which holds the transport); elsewhere, abort the response."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("simulated drop")
    transport.close()
    for _ in range(3):  # let connection_lost run, so the server stays quiet
        await asyncio.sleep(0)
