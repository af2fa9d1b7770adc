"""Data-quality checks with Great Expectations 1.x that gate push and reports.

    report = run_checks(settings.warehouse)   # validate, record, quarantine
    raise_if_blocking(report)                 # DataQualityError when a blocking check failed

Importing this package is cheap; GX loads on the first :func:`run_checks`.

Owns: the GX suites and runner, the findings they make and the report of a run; the results
are written by ``rcflow.warehouse.quality`` (``record`` shapes them).

May import: ``rcflow.warehouse``, the core lifecycle (``rcflow.lifecycle``, for the lifecycle
rules of the suites), the leaves; of the hub packages only eFACT's state table, for its technical
state codes (``suites.invoice_states``). Never ``ingest``, ``push``, ``reports``, ``flows`` or
``tasks``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rcflow.quality.report import (
    CheckReport,
    DataQualityError,
    ExpectationOutcome,
    raise_if_blocking,
)


def run_checks(
    warehouse: Path | str,
    *,
    run_id: str | None = None,
    now: datetime | None = None,
    lock_timeout: float = 600.0,  # the warehouse's DEFAULT_LOCK_TIMEOUT (this package stays light)
) -> CheckReport:
    """Run every suite over the warehouse snapshot and record the outcome.

    Writes ``ops.quality_results`` (one row per expectation), quarantines every affected invoice
    (``ops.quarantine``, stage ``quality``), resolves quality quarantines that now pass, records
    the run in ``ops.runs`` and writes Data Docs under ``<warehouse dir>/gx/``.

    Args:
        warehouse: the warehouse file (``settings.warehouse``); its snapshot is what is read.
        run_id: id for ``ops.quality_results`` / ``ops.runs`` (default: ``check-<utc>-<hex>``).
        now: the run's clock, timezone-aware (default: now) for "not in the future" checks,
            ``checked_at`` and ``detected_at``.
        lock_timeout: seconds recording waits for another writer (``settings.lock_timeout``).

    Returns:
        The :class:`CheckReport`; ``report.ok`` is False when a blocking expectation failed.
        This function does not raise for failed expectations: pass the report to
        :func:`raise_if_blocking` to stop a flow.

    Raises:
        FileNotFoundError: no warehouse at ``warehouse``.
        WarehouseBusy: another writer held the warehouse too long to record the results.

    Example::

        report = raise_if_blocking(run_checks(settings.warehouse))
    """
    from rcflow.quality.runner import run_checks as run

    return run(warehouse, run_id=run_id, now=now, lock_timeout=lock_timeout)


__all__ = [
    "CheckReport",
    "DataQualityError",
    "ExpectationOutcome",
    "raise_if_blocking",
    "run_checks",
]
