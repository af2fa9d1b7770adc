"""Turning a connector's records into Arrow tables shaped as the warehouse's contract says
(:mod:`rcflow.warehouse.tables`: the schemas here are its ``row_schema()``s). Hub-neutral: the
records already carry the column values (``rcflow.connectors.base``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.abc import MetaPathFinder

import pyarrow as pa

from rcflow.connectors.base import Acknowledged, EntityRecord, InvoiceRecord
from rcflow.ingest.bundle import FetchedAttachment, InvoiceBundle
from rcflow.warehouse.raw import state_rows
from rcflow.warehouse.tables import TABLES

ENTITY_SCHEMA = TABLES["raw.entities"].row_schema()
INVOICE_SCHEMA = TABLES["raw.invoices"].row_schema()
STATE_SCHEMA = TABLES["raw.invoice_states"].row_schema()
ATTACHMENT_SCHEMA = TABLES["raw.attachments"].row_schema()
QUARANTINE_SCHEMA = TABLES["ops.quarantine"].row_schema()

__all__ = [
    "ATTACHMENT_SCHEMA", "ENTITY_SCHEMA", "INVOICE_SCHEMA", "QUARANTINE_SCHEMA", "STATE_SCHEMA",
    "acknowledged_row", "arrow_without_pandas", "attachment_row", "bundle_tables", "entity_rows",
    "invoice_row", "state_rows",
]  # fmt: skip


def arrow_without_pandas() -> None:
    """Spare a process pyarrow's pandas import (about 1.5 s of CPU) on its first list conversion.

    pyarrow imports pandas the first time it turns a Python list into an array, only to ask
    whether the list is a pandas object. For a process that hands pyarrow none (``rcflow sync``,
    ``rcflow backfill``), this makes that probe find no pandas, once; pyarrow still imports
    pandas when it is asked for a pandas conversion (``to_pandas``, ``from_pandas``). A no-op
    when pandas is already imported. Call it before the process's first conversion.
    """
    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _NO_PANDAS)
    try:
        pa.array([], pa.null())
    finally:
        sys.meta_path.remove(_NO_PANDAS)


class _NoPandasFinder(MetaPathFinder):
    """While on ``sys.meta_path``: ``import pandas`` fails."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ImportError("pandas withheld from pyarrow's probe")
        return None


_NO_PANDAS = _NoPandasFinder()


def entity_rows(entities: Sequence[EntityRecord], fetched_at: datetime) -> pa.Table:
    rows = [{**vars(e), "fetched_at": fetched_at} for e in entities]
    return pa.Table.from_pylist(rows, schema=ENTITY_SCHEMA)


def invoice_row(
    record: InvoiceRecord, *, xml_sha256: str | None, source: str, fetched_at: datetime
) -> dict[str, object]:
    """A ``raw.invoices`` row: the record's columns, the file and the provenance."""
    return {
        **vars(record),
        "xml_sha256": xml_sha256,
        "source": source,
        "first_seen_at": fetched_at,
        "fetched_at": fetched_at,
    }


def acknowledged_row(ack: Acknowledged) -> dict[str, object]:
    """(invoice_id, hub_state, hub_state_at) the hub reported for an acknowledgement or a history."""
    return {"invoice_id": ack.invoice_id, "hub_state": ack.hub_state, "hub_state_at": ack.hub_state_at}


def attachment_row(
    invoice_id: str, item: FetchedAttachment, *, source: str, fetched_at: datetime
) -> dict[str, object]:
    return {
        "attachment_id": item.attachment_id,
        "invoice_id": invoice_id,
        "name": item.name,
        "media_type": item.media_type,
        "size_bytes": item.size,
        "sha256": item.sha256,
        "source": source,
        "fetched_at": fetched_at,
    }


def bundle_tables(bundles: Sequence[InvoiceBundle], *, source: str) -> dict[str, pa.Table]:
    """The raw.invoices / raw.invoice_states / raw.attachments rows for a batch of bundles."""
    invoices, states, attachments = [], [], []
    for b in bundles:
        fetched_at = b.fetched_at
        invoices.append(invoice_row(b.invoice, xml_sha256=b.xml_sha256, source=source, fetched_at=fetched_at))
        states.extend(state_rows(b.invoice_id, b.states, fetched_at))
        attachments.extend(
            attachment_row(b.invoice_id, a, source="invoice", fetched_at=fetched_at) for a in b.attachments
        )
    return {
        "raw.invoices": pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA),
        "raw.invoice_states": pa.Table.from_pylist(states, schema=STATE_SCHEMA),
        "raw.attachments": pa.Table.from_pylist(attachments, schema=ATTACHMENT_SCHEMA),
    }
