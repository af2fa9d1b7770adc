"""`rcflow demo` end to end, as `make demo` runs it: exit 0, every file, a clean terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb


def test_demo_runs_the_whole_pipeline_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCFLOW_", "PREFECT_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    proc = subprocess.run(
        # A relative folder, as `make demo` uses (data/demo).
        [sys.executable, "-m", "rcflow.cli.main", "demo", "--invoices", "150", "--data-dir", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    for bad in ("Traceback", "ERROR", "Error:", "nanobind", "leaked", "Warning"):
        assert bad not in output, f"{bad!r} in the demo output:\n{output[-3000:]}"
    assert "global PMP" in proc.stdout and "report.html" in proc.stdout
    reports = next((data_dir / "reports").iterdir())
    for name in (
        "pmp.csv",
        "morosity.csv",
        "pending_recognition.csv",
        "obligations.csv",
        "late_interest.csv",
        "report.html",
        "dashboard.html",
    ):
        assert (reports / name).stat().st_size > 0, name
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        invoices, pushed, runs = con.execute(
            "select (select count(*) from raw.invoices), (select count(*) from ops.push_audit),"
            " (select count(*) from ops.runs where status = 'ok')"
        ).fetchall()[0]
    finally:
        con.close()
    assert invoices >= 150 and pushed > 0 and runs >= 4
    assert (data_dir / "gx").exists()
    assert "signed in the efirma GO simulator" in proc.stdout
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        signed = con.execute("select document, state, signed_sha256 from ops.signature_requests").fetchall()
    finally:
        con.close()
    assert [(d, s) for d, s, _ in signed] == [("pmp", "signed")] and signed[0][2]
    assert (reports / "documents" / "pmp.ca.pdf").read_bytes().startswith(b"%PDF-")


def test_run_fails_with_one_line_when_a_step_fails(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCFLOW_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        RCFLOW_HUB_URL="http://127.0.0.1:9/rcf",
        RCFLOW_ISSUER="nobody",
        RCFLOW_SECRET="run-test-secret-0123456789-abcdefghijklm",
        RCFLOW_WAREHOUSE=str(tmp_path / "data" / "warehouse.duckdb"),
        RCFLOW_MAX_RETRIES="0",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "run", "--period", "2025-10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "no answer from the hub" in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "run-test-secret" not in proc.stdout + proc.stderr
