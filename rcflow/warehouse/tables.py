"""The warehouse's table contract: for each table rcflow writes in bulk, its Arrow schema (every
column, as the DDL in ``migrations/`` declares it) and how a write finds existing rows (its key).

A newcomer answers "what does raw.invoice_states hold, and how is it written?" here; the DDL is
the storage, this is the shape writers and row builders use, and ``tests/core/test_wh_tables.py``
checks the two agree on a migrated file. Row builders (``rcflow.ingest.rows``, the Facturae
step) build :meth:`Table.row_schema` tables; the writers in this package add what the warehouse
fills itself (``source_hub``, the hub a row came from).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from rcflow.facturae.arrow import (
    CENTRES_SCHEMA,
    DOCUMENTS_SCHEMA,
    INSTALLMENTS_SCHEMA,
    LINES_SCHEMA,
    MISMATCHES_SCHEMA,
)

TS = pa.timestamp("us", tz="UTC")
SOURCE_HUB = "source_hub"  # every row stored from a hub: 'efact' (FACe next)
DEFAULT_HUB = "efact"


@dataclass(frozen=True)
class Table:
    """One warehouse table: name, every column, the key writes use."""

    name: str
    schema: pa.Schema  # every column, in DDL order
    key: tuple[str, ...] = ()  # the primary key: upserts match on it (empty: append-only)
    keep: tuple[str, ...] = ()  # written on insert, never overwritten by an upsert
    replace_by: str | None = None  # rows are replaced whole per value of this column (per invoice)
    written_elsewhere: tuple[str, ...] = ()  # set by an update of its own, not by the row builders

    def row_schema(self) -> pa.Schema:
        """The columns a row builder fills (not source_hub, not those written elsewhere)."""
        skip = {SOURCE_HUB, *self.written_elsewhere}
        return pa.schema([f for f in self.schema if f.name not in skip])


def _with_hub(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field(SOURCE_HUB, pa.string(), nullable=False))


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema(list(columns))


S, I32, I64, D, B, F = pa.string(), pa.int32(), pa.int64(), pa.date32(), pa.bool_(), pa.float64()

_TABLES = (
    Table(
        "raw.entities",
        _with_hub(_schema(("entity_nif", S), ("entity_name", S), ("ine10", S), ("raw_json", S),
                          ("fetched_at", TS))),
        key=("entity_nif",),
    ),  # fmt: skip
    Table(
        "raw.invoices",
        _with_hub(_schema(
            ("invoice_id", S), ("invoice_number", S), ("issue_date", D), ("amount_cents", I64),
            ("supplier_nif", S), ("supplier_name", S), ("entity_nif", S), ("entity_name", S),
            ("registry_number", S), ("registry_at", TS), ("rcf_number", S), ("accounting_office", S),
            ("managing_body", S), ("processing_unit", S), ("hub_state", S), ("hub_state_at", TS),
            ("reject_code", S), ("reject_reason", S), ("payment_date", D), ("face_registry_number", S),
            ("face_registry_at", TS), ("xml_sha256", S), ("receipt_sha256", S), ("source", S),
            ("raw_json", S), ("first_seen_at", TS), ("fetched_at", TS), ("delivered_at", TS),
        )),
        key=("invoice_id",),
        keep=("first_seen_at", "source"),
        written_elsewhere=("receipt_sha256", "delivered_at"),
    ),  # fmt: skip
    Table(
        "raw.invoice_states",
        _with_hub(_schema(
            ("invoice_id", S), ("seq", I32), ("state", S), ("state_code", S), ("state_at", TS),
            ("registry_number", S), ("registry_at", TS), ("rcf_number", S), ("reject_code", S),
            ("reject_reason", S), ("payment_date", D), ("raw_json", S), ("fetched_at", TS),
        )),
        key=("invoice_id", "seq"),
        replace_by="invoice_id",
    ),  # fmt: skip
    Table(
        "raw.attachments",
        _with_hub(_schema(
            ("attachment_id", S), ("invoice_id", S), ("name", S), ("media_type", S), ("size_bytes", I64),
            ("sha256", S), ("source", S), ("fetched_at", TS), ("released_at", TS),
        )),
        key=("attachment_id",),
        written_elsewhere=("released_at",),
    ),  # fmt: skip
    Table("raw.facturae_documents", _with_hub(DOCUMENTS_SCHEMA), key=("invoice_id",)),
    Table(
        "raw.facturae_lines", _with_hub(LINES_SCHEMA), key=("invoice_id", "line_no"), replace_by="invoice_id"
    ),
    Table(
        "raw.facturae_installments", _with_hub(INSTALLMENTS_SCHEMA), key=("invoice_id", "seq"),
        replace_by="invoice_id",
    ),  # fmt: skip
    Table(
        "raw.facturae_centres", _with_hub(CENTRES_SCHEMA), key=("invoice_id", "role_code"),
        replace_by="invoice_id",
    ),  # fmt: skip
    Table(
        "raw.facturae_mismatches", _with_hub(MISMATCHES_SCHEMA), key=("invoice_id", "field"),
        replace_by="invoice_id",
    ),  # fmt: skip
    Table(
        "ops.quarantine",
        _schema(("invoice_id", S), ("stage", S), ("reason", S), ("detail", S), ("detected_at", TS),
                ("resolved_at", TS)),
        key=("invoice_id", "stage", "reason"),
        written_elsewhere=("resolved_at",),
    ),  # fmt: skip
    Table(
        "ops.push_outbox",
        _schema(
            ("invoice_id", S), ("state", S), ("payload", S), ("status", S), ("attempts", I32),
            ("http_status", I32), ("error_code", S), ("error_message", S), ("created_at", TS),
            ("updated_at", TS), ("run_id", S),
        ),
        key=("invoice_id", "state"),
        keep=("created_at",),
    ),  # fmt: skip
    Table(
        "ops.push_audit",
        _schema(
            ("invoice_id", S), ("state", S), ("payload", S), ("http_status", I32), ("error_code", S),
            ("error_message", S), ("called_at", TS), ("run_id", S), ("hub_reference", S),
        ),
    ),  # fmt: skip
    Table(
        "raw.cancellation_requests",
        _with_hub(_schema(("invoice_id", S), ("requested_at", TS), ("reason", S), ("hub_state", S),
                          ("raw_json", S), ("first_seen_at", TS), ("fetched_at", TS))),
        key=("invoice_id",),
        keep=("first_seen_at",),
    ),  # fmt: skip
    Table(
        "ops.cancellation_decisions",
        _schema(
            ("invoice_id", S), ("decision_seq", I32), ("requested_at", TS), ("decision", S), ("comment", S),
            ("decided_by", S), ("decided_at", TS), ("via", S), ("import_id", S), ("status", S),
            ("attempts", I32), ("hub_code", S), ("hub_message", S), ("answered_at", TS), ("run_id", S),
            ("hub_reference", S),
        ),
        key=("invoice_id", "decision_seq"),
    ),  # fmt: skip
    Table(
        "raw.credit_assignments",
        _with_hub(_schema(("invoice_id", S), ("state_code", S), ("description", S), ("raw_json", S),
                          ("first_seen_at", TS), ("fetched_at", TS))),
        key=("invoice_id",),
        keep=("first_seen_at",),
    ),  # fmt: skip
    Table(
        "ops.quality_results",
        _schema(
            ("run_id", S), ("suite", S), ("expectation", S), ("column_name", S), ("success", B),
            ("blocking", B), ("unexpected_count", I64), ("sample_invoice_ids", pa.list_(S)),
            ("checked_at", TS), ("suite_version", S), ("severity", S), ("error", S),
        ),
    ),  # fmt: skip
)

TABLES: dict[str, Table] = {t.name: t for t in _TABLES}
FROM_A_HUB: tuple[str, ...] = tuple(t.name for t in _TABLES if SOURCE_HUB in t.schema.names)


def table(name: str) -> Table:
    return TABLES[name]


def with_source(rows: pa.Table, source: str = DEFAULT_HUB) -> pa.Table:
    """``rows`` with the ``source_hub`` column set to ``source`` (replaced if present)."""
    if SOURCE_HUB in rows.column_names:
        rows = rows.drop_columns([SOURCE_HUB])
    return rows.append_column(pa.field(SOURCE_HUB, pa.string(), nullable=False),
                              pa.array([source] * rows.num_rows, pa.string()))  # fmt: skip
