"""Write a check run into the warehouse in one writer session.

``ops.quality_results`` gets one row per expectation; ``ops.quarantine`` gets (or keeps) one
``stage='quality'`` row per affected invoice and reason; quality quarantines whose invoice now
passes are resolved, never deleted; ``ops.runs`` records the run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from rcflow.quality.report import CheckReport, ExpectationOutcome
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quarantine import open_quarantines

STAGE = "quality"

RESULTS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("suite", pa.string()),
        pa.field("suite_version", pa.string()),
        pa.field("severity", pa.string()),
        pa.field("error", pa.string()),
        pa.field("expectation", pa.string()),
        pa.field("column_name", pa.string()),
        pa.field("success", pa.bool_()),
        pa.field("blocking", pa.bool_()),
        pa.field("unexpected_count", pa.int64()),
        pa.field("sample_invoice_ids", pa.list_(pa.string())),
        pa.field("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)

_NEW = """
select count(*) from _rcflow_affected a
left join ops.quarantine q
    on q.invoice_id = a.invoice_id and q.stage = ? and q.reason = a.reason
where q.invoice_id is null or q.resolved_at is not null
"""

_RESOLVE = """
update ops.quarantine q set resolved_at = ?
where q.stage = ? and q.resolved_at is null
  and not list_contains(?, q.reason)
  and not exists (
      select 1 from _rcflow_affected a where a.invoice_id = q.invoice_id and a.reason = q.reason
  )
"""


def _results_table(run_id: str, outcomes: Sequence[ExpectationOutcome], at: datetime) -> pa.Table:
    return pa.table(
        {
            "run_id": [run_id] * len(outcomes),
            "suite": [o.suite for o in outcomes],
            "suite_version": [o.suite_version for o in outcomes],
            "severity": [o.severity for o in outcomes],
            "error": [o.error for o in outcomes],
            "expectation": [o.expectation for o in outcomes],
            "column_name": [o.column for o in outcomes],
            "success": [o.success for o in outcomes],
            "blocking": [o.blocking for o in outcomes],
            "unexpected_count": [o.unexpected_count for o in outcomes],
            "sample_invoice_ids": [o.sample_invoice_ids for o in outcomes],
            "checked_at": [at] * len(outcomes),
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
    at = report.checked_at
    with wh.transaction() as con, wh.registered("_rcflow_affected", affected):
        wh.append("ops.quality_results", _results_table(report.run_id, report.outcomes, at))
        new = con.execute(_NEW, [STAGE]).fetchall()[0][0]
        open_quarantines(con, "_rcflow_affected", stage=STAGE, at=at)
        resolved = con.execute(_RESOLVE, [at, STAGE, list(keep_reasons)]).fetchall()[0][0]
        report.newly_quarantined, report.resolved = int(new), int(resolved)
        con.execute(
            # A caller's run id may already name its own run (a flow's); that row stays theirs.
            "insert into ops.runs (run_id, kind, started_at, finished_at, status, summary)"
            " values (?, 'check', ?, ?, ?, ?) on conflict (run_id) do nothing",
            [
                report.run_id,
                started_at,
                datetime.now(UTC),
                "ok" if report.ok else "failed",
                json.dumps(report.as_dict(), default=str),
            ],
        )
    return report.newly_quarantined, report.resolved
