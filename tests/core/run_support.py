"""Helpers for the run-ending tests: rcflow in a subprocess against a live simulator, and the
truth about what happened read back from the hub's log and the warehouse."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import RunningSimulator, start_simulator

ISSUER = "hub_runs"
SECRET = "runs-tests-secret-0123456789-abcdefghijk"
TODAY = date(2025, 11, 20)


@contextlib.contextmanager
def simulator(**changes: object) -> Iterator[RunningSimulator]:
    config = SimConfig(
        seed=11,
        invoices=40,
        backfill=6,
        entities=2,
        today=TODAY,
        issuers={ISSUER: SECRET},
        large_attachment_rate=0.0,
    ).with_(**changes)
    with start_simulator(config) as sim:
        yield sim


def rcflow_env(sim: RunningSimulator | None, warehouse: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_")}
    env.update(
        RCFLOW_HUB_URL=sim.base_url if sim else "http://127.0.0.1:9/rcf",
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET=SECRET,
        RCFLOW_WAREHOUSE=str(warehouse),
        RCFLOW_WORKERS="1",
        RCFLOW_MAX_RETRIES="1",
    )
    env.update(extra)
    return env


def run_rcflow(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def signal_when(
    env: dict[str, str], args: list[str], ready: Callable[[], bool], signum: int, *, timeout: float = 60
) -> tuple[int, str]:
    """Start rcflow, send ``signum`` once ``ready()`` holds; its exit code and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcflow.cli.main", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    while not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.fail(f"rcflow ended before the signal: {proc.returncode} {proc.stderr.read()}")  # type: ignore[union-attr]
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    return proc.returncode, stderr


def kill_when(env: dict[str, str], args: list[str], ready: Callable[[], bool]) -> None:
    code, _ = signal_when(env, args, ready, signal.SIGKILL)
    assert code == -signal.SIGKILL


def patches(sim: RunningSimulator, state: str | None = None) -> Counter[tuple[str, str]]:
    """Successful PATCHes the hub applied, by (invoice, state)."""
    found: Counter[tuple[str, str]] = Counter()
    for r in sim.hub.log.records():
        if r.method == "PATCH" and r.status == 200:
            estat = str((r.body or {}).get("estat", "")).strip()
            if state is None or estat == state:
                found[(r.invoice_id, estat)] += 1
    return found


def rows(path: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    """Read the live file (no writer may hold it)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def runs(path: Path) -> list[tuple[str, str, str, dict]]:
    """ops.runs as (run_id, kind, status, summary), oldest first."""
    found = rows(path, "select run_id, kind, status, summary from ops.runs order by started_at")
    return [(r, k, s, json.loads(summary) if summary else {}) for r, k, s, summary in found]


@contextlib.contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A real, small file system (tmpfs) at ``path``: a disk that fills, or one made read-only.

    Needs the right to mount (root, as in this project's CI container); skipped otherwise.
    """
    path.mkdir(parents=True, exist_ok=True)
    try:
        command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
        subprocess.run(command, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True, capture_output=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(stderr: str) -> str:
    """The command's stderr is exactly one line, with rcflow's prefix, and no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("rcflow: ") and "Traceback" not in stderr, stderr
    return lines[0]
