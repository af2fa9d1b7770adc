"""Every write of what a hub sent: ``raw.*`` rows, in bulk, one transaction per call.

Callers (the sync, the push's history re-reads) shape rows as :mod:`rcflow.warehouse.tables`
says (``Table.row_schema()``); these functions decide how they land (upsert, replace per
invoice, columns kept) and stamp each row with the hub it came from (``source_hub``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from rcflow.warehouse.db import Warehouse
from rcflow.warehouse.quarantine import open_quarantines
from rcflow.warehouse.tables import DEFAULT_HUB, TABLES, with_source

FACTURAE_STAGE = "facturae"  # ops.quarantine.stage of a file that will not parse
FACTURAE_TABLES = ("raw.facturae_documents", "raw.facturae_lines", "raw.facturae_installments",
                   "raw.facturae_centres")  # fmt: skip
TS = pa.timestamp("us", tz="UTC")


def _ids(ids: Sequence[str]) -> pa.Table:
    return pa.table({"id": pa.array(list(ids), pa.string())})


# Ids per look-up: a point look-up in the key's index (ART) only while the list is shorter than
# DuckDB's ``index_scan_max_count`` (2048 by default); a longer list scans the whole table.
LOOKUP_CHUNK = 1000


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    ids = list(ids)
    return [ids[start : start + LOOKUP_CHUNK] for start in range(0, len(ids), LOOKUP_CHUNK)]


def _in_key(column: str) -> str:
    """A filter DuckDB answers from ``column``'s primary-key index: the ids are a bound list, not
    a joined table (a join scans the whole table, which grows with the warehouse)."""
    return f"list_contains(?::varchar[], {column})"


def lookup_sql(table: str, column: str) -> str:
    """The query :func:`known_ids` runs (one bound list of ids)."""
    return f'select "{column}" from {table} where {_in_key(column)}'


def known_ids(wh: Warehouse, table: str, column: str, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` ``table`` already holds in ``column`` (its one-column primary key)."""
    found: set[str] = set()
    with wh.reading() as con:  # no write of another thread between the query and its rows
        for chunk in _chunks(ids):
            found.update(row[0] for row in con.execute(lookup_sql(table, column), [chunk]).fetchall())
    return found


def _write(wh: Warehouse, name: str, rows: pa.Table, source: str, *, ids: Sequence[str] = (),
           keep: Sequence[str] = (), new: set[str] | None = None) -> None:  # fmt: skip
    """Land ``rows`` in table ``name`` as its contract says (call inside a transaction).

    ``new``: values of the table's one-column key known to have no row yet (looked up in this
    transaction); their rows are inserted (an upsert's ``on conflict`` costs about three times
    the CPU of the insert), the others upserted."""
    table = TABLES[name]
    rows = with_source(rows, source)
    if table.replace_by:
        wh.replace_for(name, rows, ids, table.replace_by)
        return
    if new and len(table.key) == 1:
        fresh = pc.is_in(rows.column(table.key[0]), value_set=pa.array(sorted(new), pa.string()))
        wh.append(name, rows.filter(fresh))
        rows = rows.filter(pc.invert(fresh))
    wh.upsert(name, rows, list(table.key), keep=[*table.keep, *keep])


KNOWN_INVOICES_AND_ATTACHMENTS = f"""
select 'invoice', invoice_id from raw.invoices where {_in_key("invoice_id")}
union all
select 'attachment', attachment_id from raw.attachments where {_in_key("attachment_id")}
"""


def _known_invoices_and_attachments(
    wh: Warehouse, invoice_ids: Sequence[str], attachment_ids: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Which of these invoices and attachments are stored already (one query for a batch)."""
    if len(invoice_ids) > LOOKUP_CHUNK or len(attachment_ids) > LOOKUP_CHUNK:
        return (known_ids(wh, "raw.invoices", "invoice_id", invoice_ids),
                known_ids(wh, "raw.attachments", "attachment_id", attachment_ids))  # fmt: skip
    found: dict[str, set[str]] = {"invoice": set(), "attachment": set()}
    with wh.reading() as con:
        rows = con.execute(KNOWN_INVOICES_AND_ATTACHMENTS, [list(invoice_ids), list(attachment_ids)])
        for kind, value in rows.fetchall():
            found[kind].add(value)
    return found["invoice"], found["attachment"]


def store_entities(wh: Warehouse, rows: pa.Table, *, source: str = DEFAULT_HUB) -> int:
    """Upsert the entities a hub lists."""
    with wh.transaction():
        _write(wh, "raw.entities", rows, source)
    return rows.num_rows


_RESOLVE_REPARSED = """
update ops.quarantine q set resolved_at = ?
where q.stage = ? and q.resolved_at is null
  and q.invoice_id in (select id from _rcflow_reparsed)
  and not exists (
      select 1 from _rcflow_quarantined n where n.invoice_id = q.invoice_id and n.reason = q.reason
  )
"""


def store_invoices(
    wh: Warehouse,
    ids: Sequence[str],
    *,
    invoices: pa.Table,
    states: pa.Table,
    attachments: pa.Table,
    facturae: Mapping[str, pa.Table],
    mismatches: pa.Table,
    quarantined: pa.Table,
    now: datetime,
    source: str = DEFAULT_HUB,
) -> set[str]:
    """Commit a batch of invoices with everything fetched and parsed for them; returns the new ids.

    Histories, Facturae child rows and mismatches are replaced whole per invoice. ``quarantined``
    (invoice_id, reason, detail) are the files that would not parse: their findings open (or
    reopen), and the Facturae findings of these invoices that no longer apply are resolved.
    """
    with wh.transaction():
        attachment_ids = attachments.column("attachment_id").to_pylist()
        known, known_attachments = _known_invoices_and_attachments(wh, ids, attachment_ids)
        new_ids = set(ids) - known
        # Child rows hang off a stored invoice: a new one has none to replace or resolve, which
        # spares most batches a dozen statements.
        stored = [i for i in ids if i not in new_ids]
        _write(wh, "raw.invoices", invoices, source, new=new_ids)
        _write(wh, "raw.invoice_states", states, source, ids=stored)
        _write(wh, "raw.attachments", attachments, source, new=set(attachment_ids) - known_attachments)
        for name in FACTURAE_TABLES:
            _write(wh, name, facturae[name], source, ids=stored, new=new_ids)
        _write(wh, "raw.facturae_mismatches", mismatches, source, ids=stored)
        if quarantined.num_rows:
            with wh.registered("_rcflow_quarantined", quarantined):
                open_quarantines(wh.con, "_rcflow_quarantined", stage=FACTURAE_STAGE, at=now)
        if stored:
            found, reparsed = quarantined, _ids(stored)
            with wh.registered("_rcflow_quarantined", found), wh.registered("_rcflow_reparsed", reparsed):
                wh.con.execute(_RESOLVE_REPARSED, [now, FACTURAE_STAGE])
    return new_ids


ACKNOWLEDGE = f"""
update raw.invoices i set delivered_at = ?, hub_state = coalesce(a.hub_state, i.hub_state),
    hub_state_at = coalesce(a.hub_state_at, i.hub_state_at)
from _rcflow_rows a where a.invoice_id = i.invoice_id and {_in_key("i.invoice_id")}
"""


def mark_acknowledged(wh: Warehouse, acked: pa.Table, *, now: datetime) -> None:
    """Mark invoices delivered (``acked``: invoice_id, hub_state, hub_state_at as the hub answered)."""
    if acked.num_rows == 0:
        return
    with wh.transaction():
        for start in range(0, acked.num_rows, LOOKUP_CHUNK):
            chunk = acked.slice(start, LOOKUP_CHUNK)
            wh.scanning(ACKNOWLEDGE, chunk, [now, chunk.column("invoice_id").to_pylist()])


def store_refreshed(
    wh: Warehouse, ids: Sequence[str], *, invoices: pa.Table, states: pa.Table, source: str = DEFAULT_HUB
) -> None:
    """Update the columns and replace the histories of stored invoices re-read during a state
    refresh. The file reference and how the invoice first came are kept, and so is every stored
    column the refreshed row leaves empty (FACe serves number, amount, supplier and registry
    date only before the download is confirmed)."""
    if not ids:
        return
    table = TABLES["raw.invoices"]
    rows = with_source(invoices, source)
    skip = {*table.key, *table.keep, "xml_sha256"}
    sets = ", ".join(f'"{c}" = coalesce(r."{c}", i."{c}")' for c in rows.column_names if c not in skip)
    with wh.transaction(), wh.registered("_rcflow_refreshed", rows):
        wh.con.execute(
            f"update raw.invoices i set {sets} from _rcflow_refreshed r where r.invoice_id = i.invoice_id"
        )
        _write(wh, "raw.invoice_states", states, source, ids=ids)


def store_histories(
    wh: Warehouse,
    ids: Sequence[str],
    *,
    states: pa.Table,
    last: pa.Table,
    now: datetime,
    source: str = DEFAULT_HUB,
) -> None:
    """Each invoice's stored history becomes exactly the hub's latest answer; ``last``
    (invoice_id, hub_state, hub_state_at) sets the invoice's hub state."""
    if not ids:
        return
    with wh.transaction(), wh.registered("_rcflow_last", last):
        _write(wh, "raw.invoice_states", states, source, ids=ids)
        wh.con.execute(
            "update raw.invoices i set hub_state = l.hub_state, hub_state_at = l.hub_state_at, fetched_at = ?"
            " from _rcflow_last l where l.invoice_id = i.invoice_id",
            [now],
        )


def store_attachments(wh: Warehouse, rows: pa.Table, *, source: str = DEFAULT_HUB) -> int:
    """Upsert attachments (late ones, from the pending-attachments queue)."""
    if rows.num_rows:
        with wh.transaction():
            _write(wh, "raw.attachments", rows, source)
    return rows.num_rows


RELEASE = f"update raw.attachments set released_at = ? where {_in_key('attachment_id')}"


def mark_attachments_released(wh: Warehouse, attachment_ids: Sequence[str], *, now: datetime) -> None:
    """Note that the hub acknowledged the release of these attachments."""
    if not attachment_ids:
        return
    with wh.transaction() as con:
        for chunk in _chunks(attachment_ids):
            con.execute(RELEASE, [now, chunk])


def invoices_to_refresh(
    wh: Warehouse,
    *,
    final_states: Sequence[str],
    fetched_before: datetime,
    limit: int,
    source: str = DEFAULT_HUB,
) -> list[str]:
    """Invoices of hub ``source`` not in a final state and not re-read since ``fetched_before``,
    oldest first."""
    rows = wh.fetch(
        "select invoice_id from raw.invoices"
        " where source_hub = ? and coalesce(hub_state, '') not in (select unnest(?::varchar[]))"
        " and fetched_at < ? order by fetched_at limit ?",
        [source, list(final_states), fetched_before, limit],
    )
    return [r[0] for r in rows]


def state_rows(invoice_id: str, records: Sequence[Any], fetched_at: datetime) -> list[dict[str, object]]:
    """``raw.invoice_states`` rows (without source_hub) of one history, numbered from 1. Each
    record's fields are the table's columns (a connector's ``StateRecord``, which this layer does
    not import)."""
    return [
        {**vars(record), "invoice_id": invoice_id, "seq": seq, "fetched_at": fetched_at}
        for seq, record in enumerate(records, start=1)
    ]


def rows_table(name: str, rows: Sequence[Mapping[str, object]]) -> pa.Table:
    """Rows (dicts) as the Arrow table a writer of table ``name`` expects (its row schema)."""
    return pa.Table.from_pylist(list(rows), schema=TABLES[name].row_schema())


def acknowledged_rows(rows: list[dict]) -> pa.Table:
    """(invoice_id, hub_state, hub_state_at) rows as the table the writers above expect."""
    schema = pa.schema([("invoice_id", pa.string()), ("hub_state", pa.string()), ("hub_state_at", TS)])
    return pa.Table.from_pylist(rows, schema=schema)
