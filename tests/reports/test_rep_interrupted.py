"""A report interrupted or failing mid-way leaves the last report whole; a finished one replaces
it whole (rcflow.reports.publish)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from rep_builder import Inv, load
from rep_scenarios import E1

from rcflow import clock
from rcflow.reports import build_reports
from rcflow.reports.publish import MANIFEST, STAGING_PREFIX


def _warehouse(root: Path) -> Path:
    return load(root / "warehouse.duckdb", [
        Inv("A", E1, 1000, date(2025, 1, 2), {"ACCEPTED": date(2025, 1, 10),
                                                   "PAID": date(2025, 2, 9)}),
    ], entities=[(E1, "Ajuntament de Proves")])  # fmt: skip


def test_a_failed_report_leaves_the_last_one_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages fail after the CSVs are written: the folder keeps the last report as it was
    (its CSVs, not the new period's beside the old pages), and no staging folder."""
    warehouse, out = _warehouse(tmp_path), tmp_path / "out"
    with clock.pinned("2025-05-02T10:00:00Z"):
        build_reports(warehouse, "2025-Q1", out, xlsx=True)
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        from rcflow.reports import html

        def broken(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(html, "write_page", broken)
        with pytest.raises(KeyboardInterrupt):
            build_reports(warehouse, "2025-01", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert "report.xlsx" in before and MANIFEST in before


def test_a_report_removes_what_the_last_one_wrote_and_it_did_not(tmp_path: Path) -> None:
    warehouse, out = _warehouse(tmp_path), tmp_path / "out"
    with clock.pinned("2025-05-02T10:00:00Z"):
        build_reports(warehouse, "2025-Q1", out, xlsx=True)
        (out / "notes.txt").write_text("the operator's")
        build_reports(warehouse, "2025-01", out)
    names = {p.name for p in out.iterdir()}
    assert "report.xlsx" not in names and "notes.txt" in names and "report.json" in names
    assert '"period": "2025-01"' in (out / "report.json").read_text(encoding="utf-8")


def test_sigterm_during_a_report_ends_143_and_keeps_the_last_report(tmp_path: Path) -> None:
    warehouse, out = _warehouse(tmp_path), tmp_path / "out"
    with clock.pinned("2025-05-02T10:00:00Z"):
        build_reports(warehouse, "2025-Q1", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    env = {**os.environ, "RCFLOW_WAREHOUSE": str(warehouse), "RCFLOW_CLOCK": "2025-05-02T10:00:00Z"}
    proc = subprocess.Popen([sys.executable, "-m", "rcflow.cli.main", "report", "--period", "2025-01",
                             "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(out.glob(STAGING_PREFIX + "*")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the build
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the report ended before the signal arrived")
    assert proc.returncode == 143, err
    assert err.startswith("rcflow: interrupted (SIGTERM)") and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
