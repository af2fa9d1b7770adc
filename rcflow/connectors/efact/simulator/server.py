"""Run the simulator with uvicorn: in a background thread for tests, or blocking for the CLI."""

from __future__ import annotations

from collections.abc import Callable

from rcflow.connectors.efact.simulator.app import SimulatorApp
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.hub import Hub
from rcflow.loopback import HOST, ServedApp, bind, serve_forever

PREFIX = "/rcf"


class RunningSimulator(ServedApp):
    """A simulator serving on loopback in a daemon thread; a context manager."""

    def __init__(self, app: SimulatorApp, *, port: int = 0) -> None:
        # The app sets the Date header: a skewed hub shows a skewed date.
        super().__init__(app, name="eFACT simulator", port=port, date_header=False)
        self._app = app
        self.base_url = self.root_url + PREFIX
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


def start_simulator(config: SimConfig | None = None, *, port: int = 0,
                    hub: Hub | None = None, **overrides: object) -> RunningSimulator:
    """Build a hub (``config`` with ``overrides``) and serve it on 127.0.0.1 (port 0: free)."""
    if hub is None:
        config = (config or SimConfig()).with_(**overrides) if overrides else config
        hub = Hub(config)
    return RunningSimulator(SimulatorApp(hub), port=port)


def serve(config: SimConfig, host: str = HOST, port: int = 8808,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM stop it cleanly)."""
    app = SimulatorApp(Hub(config))  # the data first: it can take a while
    sock = bind(host, port)
    if on_ready is not None:
        on_ready(f"http://{host}:{sock.getsockname()[1]}{PREFIX}")
    serve_forever(app, sock, date_header=False)
