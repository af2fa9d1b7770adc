"""Writes of the accounting import: a checked file's events, scope exclusions and cancellation
answers, and the record of the file, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.warehouse.cancellations import decide_in
from rcflow.warehouse.db import Warehouse


def imported_rows(wh: Warehouse, import_id: str) -> int | None:
    """The row count of a file imported before (same bytes), or None."""
    found = wh.fetch("select row_count from ops.accounting_imports where import_id = ?", [import_id])
    return found[0][0] if found else None


def store_import(
    wh: Warehouse,
    *,
    import_id: str,
    file_name: str,
    row_count: int,
    events: pa.Table,
    exclusions: pa.Table,
    excluded_ids: Sequence[str],
    answers: Sequence[tuple[str, str, str]],
    now: datetime,
) -> int:
    """One file, all or nothing: ``events`` upserted into ``ops.accounting_events``, the file's
    exclusions replacing those of ``excluded_ids`` in ``ops.scope_exclusions``, ``answers``
    (invoice, decision, comment) recorded as cancellation decisions via 'accounting', and the file
    in ``ops.accounting_imports``. Returns how many events were new."""
    with wh.transaction():
        before = wh.fetch("select count(*) from ops.accounting_events")[0][0]
        wh.upsert("ops.accounting_events", events, ["invoice_id", "state"], keep=list(events.column_names))
        after = wh.fetch("select count(*) from ops.accounting_events")[0][0]
        wh.replace_for("ops.scope_exclusions", exclusions, list(excluded_ids), "invoice_id")
        if answers:
            decide_in(wh.con, list(answers), decided_by=f"accounting import {file_name}", via="accounting",
                      import_id=import_id, now=now)  # fmt: skip
        wh.append(
            "ops.accounting_imports",
            pa.table(
                {
                    "import_id": [import_id],
                    "file_name": [file_name],
                    "row_count": pa.array([row_count], pa.int32()),
                    "imported_at": pa.array([now], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
    return after - before
