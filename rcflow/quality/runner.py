"""``run_checks``: warehouse (read-only) → check database → GX, suite by suite → findings →
one writer session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa

from rcflow.quality.checkdb import check_database, frame
from rcflow.quality.findings import Findings, collect
from rcflow.quality.quiet import quiet_gx
from rcflow.quality.record import record_run
from rcflow.quality.report import CheckReport
from rcflow.quality.suites import all_suites
from rcflow.quality.validate import gx_session
from rcflow.warehouse import DEFAULT_LOCK_TIMEOUT, Warehouse, snapshot_path_for
from rcflow.warehouse.runs import new_run_id

HUB_TIMEZONE = ZoneInfo("Europe/Madrid")


def docs_dir_for(warehouse: Path) -> Path:
    """Where Data Docs go: ``gx/`` next to the warehouse file (``data/gx/``)."""
    return warehouse.parent / "gx"


def _readable(warehouse: Path, lock_timeout: float) -> Path:
    """The warehouse, migrated once if no session ever published it (an old or a fresh file)."""
    if not snapshot_path_for(warehouse).exists():
        if not warehouse.exists():
            raise FileNotFoundError(f"no warehouse at {warehouse}: run `rcflow sync` first")
        with Warehouse(warehouse, lock_timeout=lock_timeout):
            pass  # migrates, and publishes the first snapshot
    return warehouse


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - started


def _counts(affected: pa.Table) -> dict[str, int]:
    if affected.num_rows == 0:
        return {}
    counts = affected.group_by("reason").aggregate([("invoice_id", "count")])
    return dict(zip(counts["reason"].to_pylist(), counts["invoice_id_count"].to_pylist(), strict=True))


def run_checks(
    warehouse: Path | str,
    *,
    run_id: str | None = None,
    now: datetime | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> CheckReport:
    """Validate the warehouse (read-only), record results and quarantines, return the report.
    ``lock_timeout``: how long recording waits for another writer (``RCFLOW_LOCK_TIMEOUT``)."""
    warehouse = Path(warehouse).resolve()  # GX wants absolute paths (Data Docs)
    started_at = datetime.now(UTC)
    now = now or started_at
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run_id = run_id or new_run_id("check")
    parameters = {"now": now, "today": now.astimezone(HUB_TIMEZONE).date()}
    docs = docs_dir_for(warehouse)
    suites = all_suites()
    timings: dict[str, float] = {}
    found = Findings.empty()
    with quiet_gx(), ExitStack() as stack:
        with _timed(timings, "setup"):
            db = stack.enter_context(check_database(_readable(warehouse, lock_timeout)))
            session = stack.enter_context(
                gx_session(db, parameters=parameters, run_name=run_id, run_time=now, docs_dir=docs)
            )
        for suite in suites:  # one frame at a time: peak memory is the largest frame
            with _timed(timings, suite.name), frame(db, suite):
                found = found.merge(collect(db, session.validate(suite), parameters))
        with _timed(timings, "data_docs"):
            session.build_docs()
    report = CheckReport(
        run_id=run_id,
        checked_at=now,
        outcomes=found.outcomes,
        quarantined=_counts(found.affected),
        flagged=found.flagged,
        data_docs=docs / "index.html",
        timings=timings,
    )
    with _timed(timings, "record"), Warehouse(warehouse, lock_timeout=lock_timeout) as wh:
        record_run(wh, report, found.affected, keep_reasons=found.unresolvable, started_at=started_at)
    return report
