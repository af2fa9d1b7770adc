"""Parsing the Facturae files of a batch and cross-checking them against the hub's record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from rcflow.connectors.base import parse_document
from rcflow.facturae import FacturaeRejected, Mismatch, crosscheck, documents_to_arrow, mismatches_to_arrow
from rcflow.ingest.bundle import InvoiceBundle
from rcflow.ingest.rows import QUARANTINE_SCHEMA
from rcflow.store import BlobStore
from rcflow.warehouse.raw import FACTURAE_STAGE as STAGE


@dataclass
class FacturaeBatch:
    tables: dict[str, pa.Table]
    quarantine: pa.Table
    mismatches: pa.Table
    quarantined_ids: list[str] = field(default_factory=list)


def parse_batch(store: BlobStore, bundles: Sequence[InvoiceBundle], parsed_at: datetime) -> FacturaeBatch:
    """Rows of every bundle's Facturae file (parsed by the connector beside its download, or now);
    hostile or broken files are kept and quarantined, never raised."""
    items: list[tuple[str, str, object]] = []
    quarantine: list[dict[str, object]] = []
    checks: list[tuple[str, list[Mismatch]]] = []
    for bundle in bundles:
        doc = bundle.facturae if bundle.facturae is not None else parse_document(store.get(bundle.xml_sha256))
        if isinstance(doc, FacturaeRejected):
            rejected = doc
            items.append((bundle.invoice_id, bundle.xml_sha256, rejected))
            quarantine.append(
                {
                    "invoice_id": bundle.invoice_id,
                    "stage": STAGE,
                    "reason": rejected.reason,
                    "detail": rejected.detail[:500],
                    "detected_at": parsed_at,
                }
            )
            continue
        items.append((bundle.invoice_id, bundle.xml_sha256, doc))
        record = bundle.invoice
        checks.append(
            (
                bundle.invoice_id,
                crosscheck(
                    doc,
                    hub_total_cents=record.amount_cents,
                    hub_supplier_nif=record.supplier_nif,
                    hub_entity_nif=record.entity_nif,
                ),
            )
        )
    return FacturaeBatch(
        tables=documents_to_arrow(items, parsed_at),
        quarantine=pa.Table.from_pylist(quarantine, schema=QUARANTINE_SCHEMA),
        mismatches=mismatches_to_arrow(checks),
        quarantined_ids=[str(q["invoice_id"]) for q in quarantine],
    )
