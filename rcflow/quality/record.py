"""A check run as warehouse rows: one ``ops.quality_results`` row per expectation, written with
the run's quarantines by :func:`rcflow.warehouse.quality.record_check` (one transaction):
``ops.quarantine`` gets (or keeps) one ``stage='quality'`` row per affected invoice and reason;
quality quarantines whose invoice now passes are resolved, never deleted; ``ops.runs`` records
the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.quality.report import CheckReport, ExpectationOutcome
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quality import RESULTS, STAGE, record_check

__all__ = ["RESULTS_SCHEMA", "STAGE", "record_run"]

RESULTS_SCHEMA = RESULTS.row_schema()


def _results_table(run_id: str, outcomes: Sequence[ExpectationOutcome], at: datetime) -> pa.Table:
    return pa.table(
        {
            "run_id": [run_id] * len(outcomes),
            "suite": [o.suite for o in outcomes],
            "expectation": [o.expectation for o in outcomes],
            "column_name": [o.column for o in outcomes],
            "success": [o.success for o in outcomes],
            "blocking": [o.blocking for o in outcomes],
            "unexpected_count": [o.unexpected_count for o in outcomes],
            "sample_invoice_ids": [o.sample_invoice_ids for o in outcomes],
            "checked_at": [at] * len(outcomes),
            "suite_version": [o.suite_version for o in outcomes],
            "severity": [o.severity for o in outcomes],
            "error": [o.error for o in outcomes],
        },
        schema=RESULTS_SCHEMA,
    )


def record_run(
    wh: Warehouse,
    report: CheckReport,
    affected: pa.Table,
    *,
    keep_reasons: Sequence[str],
    started_at: datetime,
) -> tuple[int, int]:
    """Store ``report`` and its quarantine rows; returns (newly quarantined, resolved)."""

    def summary(new: int, resolved: int) -> dict[str, object]:
        report.newly_quarantined, report.resolved = new, resolved
        return report.as_dict()

    return record_check(
        wh,
        run_id=report.run_id,
        results=_results_table(report.run_id, report.outcomes, report.checked_at),
        affected=affected,
        keep_reasons=keep_reasons,
        checked_at=report.checked_at,
        started_at=started_at,
        ok=report.ok,
        summary=summary,
    )
