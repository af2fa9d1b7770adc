"""`check` as an operator meets it: exit 0/1, a table or JSON, one line of reason, quiet stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from qual_data import Data, write
from qual_scenarios import broken_keys
from typer.testing import CliRunner

from rcflow.cli import quality_cmds as cli

# The lead mounts the command on the `rcflow` app the same way.
app = typer.Typer()
app.command()(cli.check)
app.callback()(lambda: None)

MOUNTED = """
import sys, typer
from rcflow.cli.quality_cmds import check
app = typer.Typer()
app.command()(check)
app.callback()(lambda: None)
app(sys.argv[1:])
"""


def test_clean_warehouse_passes_with_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Data()
    data.good("ok-1")
    path = write(tmp_path / "data" / "warehouse.duckdb", data)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(path))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli, "hush_stderr_at_exit", lambda: None)  # not this test process
    result = CliRunner().invoke(app, ["check"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "invoice_id_unique" in result.stdout and "pass" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("ok: no blocking failures")
    assert result.stderr == ""


def test_blocking_failure_exits_1_with_one_line_and_nothing_else_on_stderr(tmp_path: Path) -> None:
    """A real process: JSON on stdout, the reason on stderr, no GX or DuckDB noise, even at exit."""
    path = broken_keys(tmp_path / "data" / "warehouse.duckdb")
    env = {**os.environ, "RCFLOW_WAREHOUSE": str(path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", MOUNTED, "check", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert not report["ok"]
    assert "invoice_id_unique" in report["blocking_failures"]
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("rcflow: blocking: invoices_suite@1 invoice_id_not_null")


def test_missing_warehouse_is_one_line_and_a_usage_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "nowhere" / "warehouse.duckdb"))
    monkeypatch.setattr(cli, "hush_stderr_at_exit", lambda: None)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2
    assert "no warehouse at" in result.stderr


HOLD_WRITER = """
import sys, time
from rcflow.warehouse import Warehouse
with Warehouse(sys.argv[1]) as wh:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_check_behind_another_writer_waits_only_the_configured_time(tmp_path: Path) -> None:
    """RCFLOW_LOCK_TIMEOUT bounds the wait to record the results (it waited the default 600 s
    behind a running sync): then one line and the busy exit, 4."""
    data = Data()
    data.good("ok-1")
    path = write(tmp_path / "data" / "warehouse.duckdb", data)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(path), "300"], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        env = {**os.environ, "RCFLOW_WAREHOUSE": str(path), "RCFLOW_LOCK_TIMEOUT": "1"}
        done = subprocess.run([sys.executable, "-c", MOUNTED, "check"], capture_output=True, text=True,
                              env=env, timeout=120)  # fmt: skip
    finally:
        holder.kill()
        holder.wait(10)
    assert done.returncode == 4, done.stderr
    assert "held by another writer" in done.stderr and done.stderr.count("\n") == 1
