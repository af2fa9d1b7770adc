"""`rcflow demo` at 23:30 UTC on 31 December: already 1 January in Madrid, the hour nightly jobs
run. The accounting import must not refuse today's events as "in the future" and the report for
the month just ended is closed, as of its last day (issue #12, bug 3; compliance-rules.md §1.5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_passes_at_madrid_midnight_on_new_year(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCFLOW_", "PREFECT_"))}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    env["RCFLOW_CLOCK"] = "2026-12-31T23:30:00Z"
    # On a loaded machine Prefect's local server may need more than its default 20 s to start.
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    proc = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "demo", "--invoices", "150", "--data-dir", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    for bad in ("Traceback", "ERROR", "Error:", "in the future"):
        assert bad not in output, f"{bad!r} in the demo output:\n{output[-3000:]}"
    # last-month in Madrid on 01/01/2027 is December 2026, closed.
    meta = json.loads((tmp_path / "demo" / "reports" / "2026-12" / "report.json").read_text("utf-8"))
    assert (meta["period"], meta["status"], meta["is_provisional"]) == (
        "2026-12", "closed, as of 31/12/2026", False)
    assert meta["generated_local"].startswith("01/01/2027 00:3")
    assert meta["generated_local"].endswith(" CET")
