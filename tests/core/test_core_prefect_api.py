"""The Prefect API a command's flows use (``rcflow.prefect_api``), without a server answering: a
configured server is left alone, and a temporary one that does not start is one line, and stopped.
The real server, its flows and a killed parent: tests/demo/test_demo_prefect_api.py."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    get_current_settings,
    temporary_settings,
)

from rcflow.prefect_api import FlowsApi, PrefectApiError, TemporaryApi


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_configured_server_is_used_as_it_is() -> None:
    configured = "http://127.0.0.1:9/api"
    with temporary_settings(updates={PREFECT_API_URL: configured}):
        heartbeat = get_current_settings().flows.heartbeat_frequency
        api = FlowsApi()
        assert api.temporary is None  # nothing started
        with api:
            assert get_current_settings().api.url == configured
            assert get_current_settings().flows.heartbeat_frequency == heartbeat


def test_a_server_that_exits_as_it_starts_is_one_line(tmp_path: Path) -> None:
    """A uvicorn that exits at once (found first on PYTHONPATH): the error names the exit code."""
    fake = tmp_path / "uvicorn"
    fake.mkdir()
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "__main__.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    api = TemporaryApi(env={**os.environ, "PYTHONPATH": str(tmp_path)})
    exited = r"^the temporary Prefect API exited with code 3 as it started$"
    with pytest.raises(PrefectApiError, match=exited):
        api.wait_ready(30)
    api.stop()
    assert _refused(api.port)


def test_a_server_that_does_not_answer_in_time_is_stopped() -> None:
    api = TemporaryApi()
    with pytest.raises(PrefectApiError, match=r"^the temporary Prefect API did not answer within 0 s$"):
        api.wait_ready(0)
    assert _refused(api.port)  # stopped, its port released
    api.stop()  # again: nothing


def test_flows_use_no_heartbeats_against_a_temporary_api_only() -> None:
    """The settings a temporary API's flows run with: its URL, no heartbeats (rcflow.prefect_env)."""
    from rcflow.prefect_env import temporary_api_updates

    updates = temporary_api_updates("http://127.0.0.1:1234/api")
    assert updates == {PREFECT_API_URL: "http://127.0.0.1:1234/api", PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    assert get_current_settings().flows.heartbeat_frequency is not None  # Prefect's default elsewhere
