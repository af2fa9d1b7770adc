"""Fetched invoices → warehouse rows: this module shapes a batch (rows, Facturae parse) and hands
it to the warehouse's writers (:mod:`rcflow.warehouse.raw`), one transaction per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.connectors.base import Acknowledged, InvoiceRecord, StateRecord
from rcflow.ingest.bundle import InvoiceBundle
from rcflow.ingest.facturae_step import parse_batch
from rcflow.ingest.rows import (
    INVOICE_SCHEMA,
    STATE_SCHEMA,
    acknowledged_row,
    bundle_tables,
    invoice_row,
    state_rows,
)
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse, raw
from rcflow.warehouse.raw import known_ids as existing_ids
from rcflow.warehouse.tables import DEFAULT_HUB

__all__ = ["existing_ids", "record_acknowledged", "store_bundles", "store_refreshed"]


def store_bundles(
    wh: Warehouse,
    store: BlobStore,
    bundles: Sequence[InvoiceBundle],
    *,
    source: str,
    now: datetime,
    hub: str = DEFAULT_HUB,
) -> tuple[set[str], list[str]]:
    """Commit a batch; returns (ids that were new, ids quarantined by the Facturae step)."""
    if not bundles:
        return set(), []
    ids = [b.invoice_id for b in bundles]
    tables = bundle_tables(bundles, source=source)
    facturae = parse_batch(store, bundles, now)
    new_ids = raw.store_invoices(
        wh,
        ids,
        invoices=tables["raw.invoices"],
        states=tables["raw.invoice_states"],
        attachments=tables["raw.attachments"],
        facturae=facturae.tables,
        mismatches=facturae.mismatches,
        quarantined=facturae.quarantine.select(["invoice_id", "reason", "detail"]),
        now=now,
        source=hub,
    )
    return new_ids, facturae.quarantined_ids


def record_acknowledged(wh: Warehouse, answers: Sequence[Acknowledged], *, now: datetime) -> None:
    """Mark invoices delivered, with the hub state the acknowledgement's answer reported."""
    rows = [acknowledged_row(a) for a in answers]
    raw.mark_acknowledged(wh, raw.acknowledged_rows(rows), now=now)


def store_refreshed(
    wh: Warehouse,
    refreshed: Sequence[tuple[InvoiceRecord, list[StateRecord]]],
    *,
    now: datetime,
    hub: str = DEFAULT_HUB,
) -> None:
    """Replace the invoice columns and histories of invoices re-read during a state refresh."""
    invoices = [invoice_row(r, xml_sha256=None, source="refresh", fetched_at=now) for r, _ in refreshed]
    states = [row for r, history in refreshed for row in state_rows(r.invoice_id, history, now)]
    raw.store_refreshed(
        wh,
        [r.invoice_id for r, _ in refreshed],
        invoices=pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA),
        states=pa.Table.from_pylist(states, schema=STATE_SCHEMA),
        source=hub,
    )
