"""``ops.quarantine`` rows: opened (or reopened) by whoever finds a problem, resolved, never deleted."""

from __future__ import annotations

from datetime import datetime

import duckdb

_OPEN = """
insert into ops.quarantine (invoice_id, stage, reason, detail, detected_at, resolved_at)
select invoice_id, ?, reason, detail, ?, null from {affected}
on conflict (invoice_id, stage, reason) do update set
    detail = excluded.detail,
    detected_at = case when resolved_at is null then detected_at else excluded.detected_at end,
    resolved_at = null
"""


def open_quarantines(con: duckdb.DuckDBPyConnection, affected: str, *, stage: str, at: datetime) -> None:
    """One open row per (invoice, reason) of the relation ``affected`` (invoice_id, reason,
    detail): an open row keeps its first detection time, a resolved one reopens as detected ``at``."""
    con.execute(_OPEN.format(affected=affected), [stage, at])
