"""The Prefect API a command's flows report to when no Prefect server is configured.

Prefect starts a temporary API server in a subprocess on a process's first flow call when no
``PREFECT_API_URL`` is set. It first imports its whole server package into the calling process
just to do so (~3 s here), then starts the subprocess, which imports it again (~4.5 s), while the
command waits: ~9 s before a one-line flow ran. :class:`FlowsApi` starts that same server
(``prefect.server.api.server:create_app`` under uvicorn, the temporary server's flags, the UI
off; Prefect's ``SubprocessASGIServer`` in the pinned 3.8) as soon as Prefect's settings are
known, so it starts while the command imports its flows, and points the flows at it with
Prefect's own ``temporary_settings``, as its test harness does, with flow-run heartbeats off
(:func:`rcflow.prefect_env.temporary_api_updates`): the calling process never imports the server.
The runs are recorded in the same database as before (``PREFECT_HOME``); the server stops with
the block, or with the process. A configured server (environment, profile, ``.env``) is used as
it is. Imports Prefect, rcflow.prefect_env and rcflow.loopback; the command line uses it.
"""

from __future__ import annotations

import atexit
import http.client
import os
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Self

from rcflow import prefect_env
from rcflow.loopback import bind

# uvicorn, in a process that ends with the one that started it: on Linux the kernel sends it
# SIGTERM when its parent dies, a SIGKILL included (Prefect's own temporary server outlives a
# killed parent); argv[1] is the parent's pid, in case it died before the request was made.
_SERVE = """
import ctypes, os, runpy, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv.pop(1)):
    sys.exit(0)
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


class PrefectApiError(RuntimeError):
    """The temporary Prefect API did not start."""


class TemporaryApi:
    """Prefect's API server in a subprocess on a loopback port this process holds from the start
    (uvicorn serves the socket it is handed: no other program can take the port in between).
    Make it in a thread that outlives the flows (the commands: the main thread): the kernel ends
    the server with the thread that started it."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        import prefect  # here, not above: after rcflow.prefect_env.apply, as Prefect reads it once

        self._socket = bind()
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api"
        fd = self._socket.fileno()
        command = [sys.executable, "-c", _SERVE, str(os.getpid()),
                   "--app-dir", str(Path(prefect.__file__).parent.parent),
                   "--factory", "prefect.server.api.server:create_app",
                   "--fd", str(fd), "--log-level", "error", "--lifespan", "on"]  # fmt: skip
        env = {**(os.environ if env is None else env), **prefect_env.TEMPORARY_SERVER}
        self._process = subprocess.Popen(command, env=env, pass_fds=(fd,))
        self.pid = self._process.pid
        atexit.register(self.stop)  # however the command ends, the server does not outlive it

    def wait_ready(self, timeout: float) -> None:
        """Until the API answers its health check; :class:`PrefectApiError` if the server exited
        or did not answer within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise PrefectApiError(f"the temporary Prefect API exited with code {code} as it started")
            if self._healthy():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise PrefectApiError(f"the temporary Prefect API did not answer within {timeout:.0f} s")
            time.sleep(0.05)

    def _healthy(self) -> bool:
        # http.client, not urllib: a proxy set in the environment must not see a loopback call.
        # The port listens from the start, so a call waits in its queue until uvicorn serves it;
        # a short timeout notices soon a server that exited meanwhile.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.5)
        try:
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """Stop the server (SIGTERM; SIGKILL after 5 s) and release the port; again: nothing."""
        atexit.unregister(self.stop)
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._socket.close()


class FlowsApi:
    """A context manager: flows called inside it report to the configured Prefect API or, when
    none is configured, to a :class:`TemporaryApi` started when this object is made (not when the
    block is entered: make it, import the flows, then enter it) and stopped at the block's end."""

    def __init__(self) -> None:
        from prefect.settings import get_current_settings

        settings = get_current_settings()
        self._timeout = settings.server.ephemeral.startup_timeout_seconds
        # None: the configured server is used
        self.temporary: TemporaryApi | None = None if settings.api.url else TemporaryApi()
        self._settings: AbstractContextManager[object] | None = None

    def __enter__(self) -> Self:
        if self.temporary is None:
            return self
        from prefect.settings import temporary_settings

        self.temporary.wait_ready(self._timeout)
        self._settings = temporary_settings(updates=prefect_env.temporary_api_updates(self.temporary.url))
        self._settings.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.temporary is None:
            return
        try:
            _deliver_logs_and_events()  # a failed run's logs (its traceback) included
        finally:
            if self._settings is not None:
                self._settings.__exit__(None, None, None)
                self._settings = None
            self.temporary.stop()


def _deliver_logs_and_events(timeout: float = 30) -> None:
    """Send what Prefect's log and event workers still hold to the API, before it stops (they
    would send it at the interpreter's exit, to a server gone by then), as Prefect's test harness
    does before stopping its server."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)
