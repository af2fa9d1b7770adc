"""Parsed (or refused) Facturae files → Arrow tables shaped like the ``raw.facturae_*`` tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.facturae.crosscheck import Mismatch
from rcflow.facturae.errors import FacturaeRejected
from rcflow.facturae.model import FacturaeDocument, Row

_TS = pa.timestamp("us", tz="UTC")

DOCUMENTS_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("parse_status", pa.string(), nullable=False),
        pa.field("parse_error", pa.string()),
        pa.field("schema_version", pa.string()),
        pa.field("namespace", pa.string()),
        pa.field("invoice_number", pa.string()),
        pa.field("invoice_series", pa.string()),
        pa.field("document_type", pa.string()),
        pa.field("invoice_class", pa.string()),
        pa.field("seller_nif", pa.string()),
        pa.field("seller_name", pa.string()),
        pa.field("buyer_nif", pa.string()),
        pa.field("buyer_name", pa.string()),
        pa.field("issue_date", pa.date32()),
        pa.field("currency", pa.string()),
        pa.field("gross_amount_cents", pa.int64()),
        pa.field("tax_output_cents", pa.int64()),
        pa.field("tax_withheld_cents", pa.int64()),
        pa.field("total_cents", pa.int64()),
        pa.field("outstanding_cents", pa.int64()),
        pa.field("executable_cents", pa.int64()),
        pa.field("is_signed", pa.bool_()),
        pa.field("installment_count", pa.int32()),
        pa.field("line_count", pa.int32()),
        pa.field("parsed_at", _TS, nullable=False),
    ]
)
LINES_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("line_no", pa.int32(), nullable=False),
        pa.field("description", pa.string()),
        pa.field("quantity", pa.float64()),
        pa.field("unit_of_measure", pa.string()),
        pa.field("unit_price", pa.float64()),
        pa.field("total_cost_cents", pa.int64()),
        pa.field("gross_amount_cents", pa.int64()),
        pa.field("tax_rate", pa.float64()),
    ]
)
INSTALLMENTS_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("seq", pa.int32(), nullable=False),
        pa.field("due_date", pa.date32()),
        pa.field("amount_cents", pa.int64()),
        pa.field("payment_means", pa.string()),
    ]
)
CENTRES_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("role_code", pa.string(), nullable=False),
        pa.field("centre_code", pa.string()),
        pa.field("centre_name", pa.string()),
    ]
)
MISMATCHES_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string(), nullable=False),
        pa.field("field", pa.string(), nullable=False),
        pa.field("hub_value", pa.string()),
        pa.field("xml_value", pa.string()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "raw.facturae_documents": DOCUMENTS_SCHEMA,
    "raw.facturae_lines": LINES_SCHEMA,
    "raw.facturae_installments": INSTALLMENTS_SCHEMA,
    "raw.facturae_centres": CENTRES_SCHEMA,
}
# How these rows are written (keys, replacement per invoice, the hub column) is the warehouse's
# table contract, rcflow.warehouse.tables, built on these schemas.

Parsed = FacturaeDocument | FacturaeRejected


def rejected_document_row(rejected: FacturaeRejected) -> Row:
    """The ``raw.facturae_documents`` row of a refused file, minus invoice_id/sha256/parsed_at."""
    row: Row = dict.fromkeys(DOCUMENTS_SCHEMA.names)
    for key in ("invoice_id", "sha256", "parsed_at"):
        del row[key]
    row["parse_status"] = "quarantined"
    row["parse_error"] = str(rejected)
    return row


def _table(rows: list[Row], schema: pa.Schema) -> pa.Table:
    columns = {name: [row[name] for row in rows] for name in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def documents_to_arrow(
    items: Sequence[tuple[str, str, Parsed]], parsed_at: datetime
) -> dict[str, pa.Table]:
    """Build the four ``raw.facturae_*`` tables for ``(invoice_id, sha256, result)`` items.

    A refused file gets a ``quarantined`` document row with its ``parse_error`` and no child
    rows. Replace an invoice's child rows as a whole when upserting (a re-parse may have fewer).
    """
    if parsed_at.tzinfo is None:
        raise ValueError("parsed_at must be timezone-aware")
    documents: list[Row] = []
    lines: list[Row] = []
    installments: list[Row] = []
    centres: list[Row] = []
    for invoice_id, sha256, result in items:
        if isinstance(result, FacturaeRejected):
            row = rejected_document_row(result)
        else:
            row = result.document_row()
            key = {"invoice_id": invoice_id}
            lines.extend(key | line for line in result.line_rows())
            installments.extend(key | item for item in result.installment_rows())
            centres.extend(key | centre for centre in result.centre_rows())
        documents.append({"invoice_id": invoice_id, "sha256": sha256, "parsed_at": parsed_at} | row)
    return {
        "raw.facturae_documents": _table(documents, DOCUMENTS_SCHEMA),
        "raw.facturae_lines": _table(lines, LINES_SCHEMA),
        "raw.facturae_installments": _table(installments, INSTALLMENTS_SCHEMA),
        "raw.facturae_centres": _table(centres, CENTRES_SCHEMA),
    }


def mismatches_to_arrow(items: Iterable[tuple[str, Iterable[Mismatch]]]) -> pa.Table:
    """``raw.facturae_mismatches`` rows for ``(invoice_id, crosscheck(...))`` items."""
    rows = [
        {
            "invoice_id": invoice_id,
            "field": m.field,
            "hub_value": m.hub_value,
            "xml_value": m.xml_value,
        }
        for invoice_id, found in items
        for m in found
    ]
    return _table(rows, MISMATCHES_SCHEMA)
