"""Owed updates: the read model over ``ops.owed_updates`` (migration 012), the one definition of
what the hub is owed, held back, or cannot be sent. The push plan, ``rcflow status``,
``rcflow quarantine list`` and the dbt reports all read it.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

OWED_VIEW = "ops.owed_updates"

_COLUMNS = (
    "invoice_id, source_hub, state, state_rank, event_date, rcf_number, reason_code, reason, hub_state,"
    " verdict, detail, is_discrepancy, is_blocking, is_owed, hold_kind, hold_reason, is_due, is_refused,"
    " refused_status, refused_code, refused_message, refused_at"
)


def owed_rows(
    con: duckdb.DuckDBPyConnection, invoice_ids: Sequence[str] | None = None, *, hub: str | None = None
) -> pa.Table:
    """Every accounting event with its verdict, in (invoice, lifecycle) order, as Arrow; only of
    ``invoice_ids`` and of the invoices hub ``hub`` holds, when given (an event of an invoice no
    hub holds has no ``source_hub``: every hub's plan shows it)."""
    sql = f"select {_COLUMNS} from {OWED_VIEW} where true"
    params: list[object] = []
    if invoice_ids is not None:
        sql += " and list_contains(?, invoice_id)"
        params.append(list(invoice_ids))
    if hub is not None:
        sql += " and (source_hub = ? or source_hub is null)"
        params.append(hub)
    con.complete()
    return con.sql(sql + " order by invoice_id, state_rank", params=params).to_arrow_table()


def due_by_state(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(state, count) of the updates the next push sends (owed and not held), in lifecycle order."""
    return con.execute(
        f"select state, count(*) from {OWED_VIEW} where is_due group by state, state_rank order by state_rank"
    ).fetchall()


def held_back(con: duckdb.DuckDBPyConnection, kind: str = "quarantine") -> dict[str, list[str]]:
    """Invoice → the owed states a hold of ``kind`` keeps back, in lifecycle order."""
    rows = con.execute(
        f"select invoice_id, list(state order by state_rank) from {OWED_VIEW}"
        " where hold_kind = ? group by invoice_id order by invoice_id",
        [kind],
    ).fetchall()
    return dict(rows)
