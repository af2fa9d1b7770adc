"""Run the simulator with uvicorn: in a background thread for tests, or blocking for the CLI."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from rcflow.connectors.efact.simulator.app import SimulatorApp
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.hub import Hub

HOST = "127.0.0.1"


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _uvicorn_config(app: SimulatorApp, quiet: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app, lifespan="off", access_log=False, log_config=None,
        log_level="critical" if quiet else "warning", timeout_graceful_shutdown=1,
        timeout_keep_alive=30, backlog=2048, date_header=False,
    )


class RunningSimulator:
    """A simulator serving on loopback in a daemon thread; a context manager."""

    def __init__(self, app: SimulatorApp, server: uvicorn.Server, thread: threading.Thread,
                 sock: socket.socket, prefix: str = "/rcf") -> None:
        self._app = app
        self._server = server
        self._thread = thread
        self._sock = sock
        self.host, self.port = sock.getsockname()[:2]
        self.root_url = f"http://{self.host}:{self.port}"
        self.base_url = self.root_url + prefix
        self.admin_url = self.root_url + "/_sim"

    @property
    def hub(self) -> Hub:
        return self._app.hub

    @property
    def config(self) -> SimConfig:
        return self.hub.config

    def reset(self, config: SimConfig | Hub | None = None) -> Hub:
        """Serve a fresh hub (new data, log and faults) without restarting the server."""
        hub = config if isinstance(config, Hub) else Hub(config or self.config)
        self._app.hub = hub
        return hub

    def __repr__(self) -> str:
        return f"RunningSimulator({self.base_url}, {self.hub!r})"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_simulator(config: SimConfig | None = None, *, port: int = 0,
                    hub: Hub | None = None, **overrides: object) -> RunningSimulator:
    """Build a hub (``config`` with ``overrides``) and serve it on 127.0.0.1 (port 0: free)."""
    if hub is None:
        config = (config or SimConfig()).with_(**overrides) if overrides else config
        hub = Hub(config)
    sock = _bind(HOST, port)
    app = SimulatorApp(hub)
    server = uvicorn.Server(_uvicorn_config(app, quiet=True))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"efact-sim-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the eFACT simulator did not start")
        time.sleep(0.005)
    return RunningSimulator(app, server, thread, sock)


def serve(config: SimConfig, host: str = HOST, port: int = 8808,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    hub = Hub(config)
    sock = _bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/rcf"
    server = uvicorn.Server(_uvicorn_config(SimulatorApp(hub), quiet=False))
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if on_ready is not None:
        on_ready(url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
