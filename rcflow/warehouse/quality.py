"""Writing a check run: ``ops.quality_results`` rows, quality quarantines opened and resolved, and the
run's ``ops.runs`` row, all in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pyarrow as pa

from rcflow.warehouse.db import Warehouse
from rcflow.warehouse.quarantine import open_quarantines
from rcflow.warehouse.tables import TABLES

STAGE = "quality"  # ops.quarantine.stage of a finding of the checks
RESULTS = TABLES["ops.quality_results"]

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


def record_check(
    wh: Warehouse,
    *,
    run_id: str,
    results: pa.Table,
    affected: pa.Table,
    keep_reasons: Sequence[str],
    checked_at: datetime,
    started_at: datetime,
    ok: bool,
    summary: Callable[[int, int], dict[str, object]],
) -> tuple[int, int]:
    """Store a check run; returns (newly quarantined, resolved).

    ``results`` are ``ops.quality_results`` rows; ``affected`` (invoice_id, reason, detail) the
    findings that quarantine an invoice now; quality quarantines not found again are resolved,
    except for ``keep_reasons`` (checks that could not run). ``summary(new, resolved)`` is the
    run's ``ops.runs`` summary. A caller's run id may already name its own run (a flow's): that
    row stays theirs.
    """
    with wh.transaction() as con, wh.registered("_rcflow_affected", affected):
        wh.append(RESULTS.name, results)
        new = int(con.execute(_NEW, [STAGE]).fetchall()[0][0])
        open_quarantines(con, "_rcflow_affected", stage=STAGE, at=checked_at)
        resolved = int(con.execute(_RESOLVE, [checked_at, STAGE, list(keep_reasons)]).fetchall()[0][0])
        con.execute(
            "insert into ops.runs (run_id, kind, started_at, finished_at, status, summary)"
            " values (?, 'check', ?, ?, ?, ?) on conflict (run_id) do nothing",
            [run_id, started_at, datetime.now(UTC), "ok" if ok else "failed",
             json.dumps(summary(new, resolved), default=str)],
        )  # fmt: skip
    return new, resolved
