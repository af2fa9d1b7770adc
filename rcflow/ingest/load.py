"""Writing fetched invoices to the warehouse: one transaction per batch, bulk Arrow writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.connectors.efact.models import InvoiceDetail, StateHistory
from rcflow.ingest.bundle import InvoiceBundle
from rcflow.ingest.facturae_step import STAGE as FACTURAE_STAGE
from rcflow.ingest.facturae_step import parse_batch
from rcflow.ingest.rows import (
    INVOICE_SCHEMA,
    STATE_SCHEMA,
    bundle_tables,
    history_rows,
    invoice_row,
    state_name,
)
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quarantine import open_quarantines

FACTURAE_CHILD_TABLES = ("raw.facturae_lines", "raw.facturae_installments", "raw.facturae_centres")


def existing_ids(wh: Warehouse, table: str, column: str, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    with wh.registered("_rcflow_probe", pa.table({"id": pa.array(list(ids), pa.string())})):
        rows = wh.fetch(f'select "{column}" from {table} where "{column}" in (select id from _rcflow_probe)')
    return {r[0] for r in rows}


def store_bundles(
    wh: Warehouse,
    store: BlobStore,
    bundles: Sequence[InvoiceBundle],
    *,
    source: str,
    now: datetime,
) -> tuple[set[str], list[str]]:
    """Commit a batch; returns (ids that were new, ids quarantined by the Facturae step)."""
    if not bundles:
        return set(), []
    ids = [b.invoice_id for b in bundles]
    tables = bundle_tables(bundles, source=source)
    facturae = parse_batch(store, bundles, now)
    with wh.transaction():
        new_ids = set(ids) - existing_ids(wh, "raw.invoices", "invoice_id", ids)
        wh.upsert(
            "raw.invoices",
            tables["raw.invoices"],
            ["invoice_id"],
            keep=["first_seen_at", "source"],
        )
        wh.replace_for("raw.invoice_states", tables["raw.invoice_states"], ids, "invoice_id")
        wh.upsert("raw.attachments", tables["raw.attachments"], ["attachment_id"])
        wh.upsert("raw.facturae_documents", facturae.tables["raw.facturae_documents"], ["invoice_id"])
        for child in FACTURAE_CHILD_TABLES:
            wh.replace_for(child, facturae.tables[child], ids, "invoice_id")
        wh.replace_for("raw.facturae_mismatches", facturae.mismatches, ids, "invoice_id")
        _settle_facturae_quarantine(wh, facturae.quarantine, ids, now)
    return new_ids, facturae.quarantined_ids


_RESOLVE_REPARSED = """
update ops.quarantine q set resolved_at = ?
where q.stage = ? and q.resolved_at is null
  and q.invoice_id in (select id from _rcflow_reparsed)
  and not exists (
      select 1 from _rcflow_quarantined n where n.invoice_id = q.invoice_id and n.reason = q.reason
  )
"""


def _settle_facturae_quarantine(
    wh: Warehouse, quarantined: pa.Table, ids: Sequence[str], now: datetime
) -> None:
    """Open (or reopen) this parse's Facturae quarantines; resolve, never delete, those of these
    invoices that no longer apply (the file now parses, e.g. after a parser fix and a backfill)."""
    reparsed = pa.table({"id": pa.array(list(ids), pa.string())})
    with wh.registered("_rcflow_quarantined", quarantined), wh.registered("_rcflow_reparsed", reparsed):
        open_quarantines(wh.con, "_rcflow_quarantined", stage=FACTURAE_STAGE, at=now)
        wh.con.execute(_RESOLVE_REPARSED, [now, FACTURAE_STAGE])


def record_acknowledged(wh: Warehouse, details: Sequence[InvoiceDetail], *, now: datetime) -> None:
    """Mark invoices delivered, with the hub state the PATCH answer reported."""
    if not details:
        return
    rows = pa.table(
        {
            "invoice_id": pa.array([d.id for d in details], pa.string()),
            "hub_state": pa.array([state_name(d.estat) for d in details], pa.string()),
            "hub_state_at": pa.array([d.dataEstat for d in details], pa.timestamp("us", tz="UTC")),
        }
    )
    with wh.registered("_rcflow_acked", rows), wh.transaction() as con:
        con.execute(
            "update raw.invoices i set delivered_at = ?,"
            " hub_state = coalesce(a.hub_state, i.hub_state),"
            " hub_state_at = coalesce(a.hub_state_at, i.hub_state_at)"
            " from _rcflow_acked a where a.invoice_id = i.invoice_id",
            [now],
        )


def store_refreshed(
    wh: Warehouse,
    refreshed: Sequence[tuple[InvoiceDetail, StateHistory]],
    *,
    now: datetime,
) -> None:
    """Replace detail columns and histories of invoices re-read during a state refresh."""
    if not refreshed:
        return
    invoices = [invoice_row(d, xml_sha256=None, source="refresh", fetched_at=now) for d, _ in refreshed]
    with wh.transaction():
        wh.upsert(
            "raw.invoices",
            pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA),
            ["invoice_id"],
            keep=["first_seen_at", "source", "xml_sha256"],
        )
        _replace_histories(wh, [(d.id, history) for d, history in refreshed], now)


def _replace_histories(wh: Warehouse, histories: Sequence[tuple[str, StateHistory]], now: datetime) -> None:
    """Each invoice's stored history becomes exactly the hub's latest answer (call in a transaction)."""
    states = [row for invoice_id, history in histories for row in history_rows(invoice_id, history, now)]
    ids = [invoice_id for invoice_id, _ in histories]
    wh.replace_for("raw.invoice_states", pa.Table.from_pylist(states, schema=STATE_SCHEMA), ids, "invoice_id")


def store_histories(wh: Warehouse, histories: Sequence[tuple[str, StateHistory]], *, now: datetime) -> None:
    """Replace the histories of some invoices and set their hub state to the last entry's."""
    if not histories:
        return
    latest = [(i, h.estats[-1]) for i, h in histories if h.estats]
    last = pa.table(
        {
            "invoice_id": pa.array([i for i, _ in latest], pa.string()),
            "hub_state": pa.array([state_name(e.estat) for _, e in latest], pa.string()),
            "hub_state_at": pa.array([e.dataEstat for _, e in latest], pa.timestamp("us", tz="UTC")),
        }
    )
    with wh.transaction(), wh.registered("_rcflow_last", last):
        _replace_histories(wh, histories, now)
        wh.con.execute(
            "update raw.invoices i set hub_state = l.hub_state, hub_state_at = l.hub_state_at, fetched_at = ?"
            " from _rcflow_last l where l.invoice_id = i.invoice_id",
            [now],
        )
