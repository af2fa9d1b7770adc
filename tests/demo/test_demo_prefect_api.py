"""The temporary Prefect API of `rcflow run` and `rcflow demo` (``rcflow.prefect_api``), a real
server: the flows report to it, the command never imports Prefect's server, and it ends with the
block or with the command, however the command ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings

from rcflow.prefect_api import FlowsApi

pytestmark = pytest.mark.slow

# A command as `rcflow run` is one: the API started, then the flows imported, then a flow run in
# the block; it prints the server's pid, whether it imported Prefect's server, then waits.
COMMAND = """
import sys, time
from rcflow import prefect_env
prefect_env.apply(quiet_runs=True)
from rcflow.prefect_api import FlowsApi
api = FlowsApi()
from prefect import flow
@flow
def nightly() -> int:
    return 7
with api:
    assert nightly() == 7
    print(api.temporary.pid, "prefect.server.api.server" in sys.modules, flush=True)
    time.sleep(120)
"""


@flow
def one_line_flow() -> str:
    return "done"


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _ended(pid: int) -> bool:
    """No such process, or one that has ended and waits to be reaped (a container's init may not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_flows_report_to_a_temporary_api_that_ends_with_the_block(
    prefect_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(prefect_home))  # the server's: its database is made
    assert get_current_settings().api.url is None  # the suite configures no server
    api = FlowsApi()
    assert api.temporary is not None
    url, port = api.temporary.url, api.temporary.port
    assert url == f"http://127.0.0.1:{port}/api"
    with api:
        assert get_current_settings().api.url == url
        assert get_current_settings().flows.heartbeat_frequency is None
        state = one_line_flow(return_state=True)
        assert state.result() == "done"
        with get_client(sync_client=True) as client:
            recorded = client.read_flow_run(state.state_details.flow_run_id)
        assert recorded.state is not None and recorded.state.is_completed()
    assert get_current_settings().api.url is None  # the suite's settings again
    assert _refused(port)


def test_the_temporary_api_ends_with_a_killed_command(prefect_home: Path) -> None:
    """SIGKILL leaves no handler to run: the kernel ends the server with its parent (Prefect's own
    temporary server outlives a killed command)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    command = subprocess.Popen([sys.executable, "-c", COMMAND], env=env | {"PREFECT_HOME": str(prefect_home)},
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert command.stdout is not None
        pid, server_imported = command.stdout.readline().split()
        assert server_imported == "False"  # the command never imported Prefect's server
        assert not _ended(int(pid))
        command.send_signal(signal.SIGKILL)
        command.wait(timeout=10)
        deadline = time.monotonic() + 15
        while not _ended(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ended(int(pid)), "the temporary Prefect API outlived its command"
    finally:
        command.kill()
        command.wait()
