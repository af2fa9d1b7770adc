"""Run the FACe simulator with uvicorn: in a background thread for tests, or blocking for the CLI."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

import uvicorn

from rcflow.connectors.face.simulator.app import SERVICE_PATH, FaceSimulatorApp
from rcflow.connectors.face.simulator.data import FaceSimConfig
from rcflow.connectors.face.simulator.service import FaceHub

HOST = "127.0.0.1"


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _config(app: FaceSimulatorApp, quiet: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="critical" if quiet else "warning",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=30,
        date_header=True,
    )


class RunningFaceSimulator:
    """A simulated FACe serving on loopback in a daemon thread; a context manager."""

    def __init__(
        self, app: FaceSimulatorApp, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket
    ) -> None:
        self._app, self._server, self._thread, self._sock = app, server, thread, sock
        self.host, self.port = sock.getsockname()[:2]
        self.root_url = f"http://{self.host}:{self.port}"
        self.url = self.root_url + SERVICE_PATH
        self.admin_url = self.root_url + "/_sim"

    @property
    def hub(self) -> FaceHub:
        return self._app.hub

    def reset(self, hub: FaceHub) -> FaceHub:
        """Serve another hub (new data, log, faults) on the same port."""
        self._app.hub = hub
        return hub

    def __repr__(self) -> str:
        return f"RunningFaceSimulator({self.url}, {self.hub!r})"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningFaceSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_face_simulator(
    hub: FaceHub | FaceSimConfig | None = None, *, port: int = 0
) -> RunningFaceSimulator:
    """Serve ``hub`` (or a new one for a config) on 127.0.0.1 (port 0: a free one)."""
    hub = hub if isinstance(hub, FaceHub) else FaceHub(hub)
    sock = _bind(HOST, port)
    app = FaceSimulatorApp(hub)
    server = uvicorn.Server(_config(app, quiet=True))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"face-sim-{sock.getsockname()[1]}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the FACe simulator did not start")
        time.sleep(0.005)
    return RunningFaceSimulator(app, server, thread, sock)


def serve(
    hub: FaceHub, host: str = HOST, port: int = 8809, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(FaceSimulatorApp(hub), quiet=False))
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    if on_ready is not None:
        on_ready(f"http://{host}:{sock.getsockname()[1]}{SERVICE_PATH}")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
