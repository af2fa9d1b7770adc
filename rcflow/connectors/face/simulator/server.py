"""Run the FACe simulator with uvicorn: in a background thread for tests, or blocking for the CLI."""

from __future__ import annotations

from collections.abc import Callable

from rcflow.connectors.face.simulator.app import SERVICE_PATH, FaceSimulatorApp
from rcflow.connectors.face.simulator.data import FaceSimConfig
from rcflow.connectors.face.simulator.service import FaceHub
from rcflow.loopback import HOST, ServedApp, bind, serve_forever


class RunningFaceSimulator(ServedApp):
    """A simulated FACe serving on loopback in a daemon thread; a context manager."""

    def __init__(self, app: FaceSimulatorApp, *, port: int = 0) -> None:
        super().__init__(app, name="FACe simulator", port=port)
        self._app = app
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


def start_face_simulator(
    hub: FaceHub | FaceSimConfig | None = None, *, port: int = 0
) -> RunningFaceSimulator:
    """Serve ``hub`` (or a new one for a config) on 127.0.0.1 (port 0: a free one)."""
    hub = hub if isinstance(hub, FaceHub) else FaceHub(hub)
    return RunningFaceSimulator(FaceSimulatorApp(hub), port=port)


def serve(
    hub: FaceHub, host: str = HOST, port: int = 8809, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    sock = bind(host, port)
    if on_ready is not None:
        on_ready(f"http://{host}:{sock.getsockname()[1]}{SERVICE_PATH}")
    serve_forever(FaceSimulatorApp(hub), sock)
