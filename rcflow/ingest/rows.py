"""Turning fetched hub data into Arrow tables shaped as the warehouse's contract says
(:mod:`rcflow.warehouse.tables`: the schemas here are its ``row_schema()``s)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.abc import MetaPathFinder

import pyarrow as pa

from rcflow.connectors.efact.history import history_rows, raw_items, state_name, state_rows
from rcflow.connectors.efact.models import EntityList, InvoiceDetail
from rcflow.ingest.bundle import FetchedAttachment, InvoiceBundle
from rcflow.warehouse.tables import TABLES

ENTITY_SCHEMA = TABLES["raw.entities"].row_schema()
INVOICE_SCHEMA = TABLES["raw.invoices"].row_schema()
STATE_SCHEMA = TABLES["raw.invoice_states"].row_schema()
ATTACHMENT_SCHEMA = TABLES["raw.attachments"].row_schema()
QUARANTINE_SCHEMA = TABLES["ops.quarantine"].row_schema()

__all__ = [
    "ATTACHMENT_SCHEMA", "ENTITY_SCHEMA", "INVOICE_SCHEMA", "QUARANTINE_SCHEMA", "STATE_SCHEMA",
    "arrow_without_pandas", "attachment_row", "bundle_tables", "entity_rows", "history_rows",
    "invoice_row", "raw_items", "state_name", "state_rows",
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


def entity_rows(listing: EntityList, fetched_at: datetime) -> pa.Table:
    raws = raw_items(listing.raw_json, "ens", len(listing.ens))
    rows = [
        {
            "entity_nif": e.nif,
            "entity_name": e.nom,
            "ine10": e.ine10,
            "raw_json": raw or e.model_dump_json(),
            "fetched_at": fetched_at,
        }
        for e, raw in zip(listing.ens, raws, strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=ENTITY_SCHEMA)


def invoice_row(
    detail: InvoiceDetail, *, xml_sha256: str | None, source: str, fetched_at: datetime
) -> dict[str, object]:
    return {
        "invoice_id": detail.id,
        "invoice_number": detail.numeroFactura,
        "issue_date": detail.dataFactura,
        "amount_cents": detail.amount_cents,
        "supplier_nif": detail.nifProveidor,
        "supplier_name": detail.nomProveidor,
        "entity_nif": detail.nif,
        "entity_name": detail.nom,
        "registry_number": detail.numeroRegistre,
        "registry_at": detail.dataRegistre,
        "rcf_number": detail.numeroRegistreRCF,
        "accounting_office": detail.oficinaComptable,
        "managing_body": detail.organGestor,
        "processing_unit": detail.unitatTramitadora,
        "hub_state": state_name(detail.estat),
        "hub_state_at": detail.dataEstat,
        "reject_code": detail.codiMotiuRebuig,
        "reject_reason": detail.descripcioMotiuRebuig,
        "payment_date": detail.dataPagament,
        "face_registry_number": detail.numeroRegistreFACe,
        "face_registry_at": detail.dataRegistreFACe,
        "xml_sha256": xml_sha256,
        "source": source,
        "raw_json": detail.raw_json or detail.model_dump_json(),
        "first_seen_at": fetched_at,
        "fetched_at": fetched_at,
    }


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
        invoices.append(invoice_row(b.detail, xml_sha256=b.xml_sha256, source=source, fetched_at=fetched_at))
        states.extend(history_rows(b.invoice_id, b.history, fetched_at))
        attachments.extend(
            attachment_row(b.invoice_id, a, source="invoice", fetched_at=fetched_at) for a in b.attachments
        )
    return {
        "raw.invoices": pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA),
        "raw.invoice_states": pa.Table.from_pylist(states, schema=STATE_SCHEMA),
        "raw.attachments": pa.Table.from_pylist(attachments, schema=ATTACHMENT_SCHEMA),
    }
