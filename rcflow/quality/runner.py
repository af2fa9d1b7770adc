"""``run_checks``: snapshot → check database → GX checkpoint → findings → one writer session."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rcflow.quality.checkdb import check_database
from rcflow.quality.findings import collect
from rcflow.quality.quiet import quiet_gx
from rcflow.quality.record import record_run
from rcflow.quality.report import CheckReport
from rcflow.quality.suites import all_suites
from rcflow.quality.validate import run_suites
from rcflow.runs import new_run_id
from rcflow.warehouse import Warehouse, snapshot_path_for

HUB_TIMEZONE = ZoneInfo("Europe/Madrid")


def docs_dir_for(warehouse: Path) -> Path:
    """Where Data Docs go: ``gx/`` next to the warehouse file (``data/gx/``)."""
    return warehouse.parent / "gx"


def _snapshot(warehouse: Path) -> Path:
    snapshot = snapshot_path_for(warehouse)
    if not snapshot.exists():
        if not warehouse.exists():
            raise FileNotFoundError(f"no warehouse at {warehouse}: run `rcflow sync` first")
        with Warehouse(warehouse):
            pass  # migrates and publishes the first snapshot
    return snapshot


def run_checks(
    warehouse: Path | str, *, run_id: str | None = None, now: datetime | None = None
) -> CheckReport:
    """Validate the warehouse snapshot, record results and quarantines, return the report."""
    warehouse = Path(warehouse)
    started_at = datetime.now(UTC)
    now = now or started_at
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run_id = run_id or new_run_id("check")
    parameters = {"now": now, "today": now.astimezone(HUB_TIMEZONE).date()}
    docs = docs_dir_for(warehouse)
    suites = all_suites()
    with quiet_gx(), check_database(_snapshot(warehouse), suites) as db:
        results = run_suites(db, suites, parameters=parameters, run_name=run_id, run_time=now, docs_dir=docs)
        findings = collect(db, results, parameters)
    quarantined: dict[str, int] = {}
    if findings.affected.num_rows:
        counts = findings.affected.group_by("reason").aggregate([("invoice_id", "count")])
        quarantined = dict(
            zip(counts["reason"].to_pylist(), counts["invoice_id_count"].to_pylist(), strict=True)
        )
    report = CheckReport(
        run_id=run_id,
        checked_at=now,
        outcomes=findings.outcomes,
        quarantined=quarantined,
        flagged=findings.flagged,
        data_docs=docs / "index.html",
    )
    with Warehouse(warehouse) as wh:
        record_run(wh, report, findings.affected, keep_reasons=findings.unresolvable, started_at=started_at)
    return report
