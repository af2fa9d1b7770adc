"""`rcflow hub serve` (here via ``python -m rcflow.connectors.efact.simulator``): one line, a working hub."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
from typer.testing import CliRunner

from rcflow.cli.hub_cmds import app

SECRET = "test-secret-0123456789-abcdefghijklmnop"


def test_serve_prints_one_line_and_serves(make_token) -> None:
    """The URL line comes first; the hub answers; Ctrl-C stops it without a traceback."""
    env = {**os.environ, "RCFLOW_SECRET": SECRET, "RCFLOW_ISSUER": "hub_0012"}
    command = [sys.executable, "-m", "rcflow.connectors.efact.simulator", "serve", "--port", "0",
               "--invoices", "30", "--seed", "3", "--today", "2025-06-30"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/rcf)", line).group(1)
        response = httpx.get(f"{url}/factures-pendents", timeout=10,
                             headers={"Authorization": f"Bearer {make_token()}"})
        assert response.status_code == 200 and len(response.json()["factures"]) == 30
        assert SECRET not in " ".join(command)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert process.returncode in (0, 130, -signal.SIGINT), err
    assert out == "" and "Traceback" not in err
    assert SECRET not in line + out + err


def test_serve_refuses_to_start_without_a_secret() -> None:
    result = CliRunner().invoke(app, ["serve", "--secret-env", "RCFLOW_SIM_TEST_UNSET"],
                                env={"RCFLOW_SIM_TEST_UNSET": ""})
    assert result.exit_code == 2
    assert "RCFLOW_SIM_TEST_UNSET" in result.output


def test_serve_rejects_a_bad_date() -> None:
    result = CliRunner().invoke(app, ["serve", "--today", "30/06/2025"],
                                env={"RCFLOW_SECRET": SECRET})
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
