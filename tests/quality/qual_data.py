"""Warehouse data for the quality tests: rows with sane defaults, written with ``Warehouse``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from rcflow.warehouse import Warehouse, open_reader

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
REGISTERED_AT = datetime(2025, 1, 11, 9, 0, tzinfo=UTC)
SUPPLIER = "ESB12345674"  # valid CIF, written the hub's way (ES prefix)
ENTITY = "ESQ1111112G"  # the spec's entity, a valid CIF


def invoice(invoice_id: str | None, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "invoice_id": invoice_id,
        "invoice_number": f"F-{invoice_id}",
        "issue_date": date(2025, 1, 10),
        "amount_cents": 12100,
        "supplier_nif": SUPPLIER,
        "entity_nif": ENTITY,
        "accounting_office": "L01080193",
        "managing_body": "LA0001234",
        "processing_unit": "A09012345",
        "registry_at": REGISTERED_AT,
        "source": "pending",
        "raw_json": "{}",
        "first_seen_at": NOW,
        "fetched_at": NOW,
    }
    row.update(overrides)
    return row


def facturae(invoice_id: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "invoice_id": invoice_id,
        "sha256": "0" * 64,
        "parse_status": "ok",
        "parse_error": None,
        "invoice_class": "OO",
        "currency": "EUR",
        "parsed_at": NOW,
    }
    row.update(overrides)
    return row


def state(
    invoice_id: str, seq: int, name: str, code: str | None, at: datetime, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "invoice_id": invoice_id,
        "seq": seq,
        "state": name,
        "state_code": code,
        "state_at": at,
        "rcf_number": None,
        "reject_reason": None,
        "payment_date": None,
        "raw_json": "{}",
        "fetched_at": NOW,
    }
    row.update(extra)
    return row


def lifecycle(invoice_id: str) -> list[dict[str, Any]]:
    """A complete, coherent history with 2025 technical codes."""
    t = REGISTERED_AT
    return [
        state(invoice_id, 0, "REGISTERED", "1200", t),
        state(invoice_id, 1, "DELIVERED", "1250", t + timedelta(hours=1)),
        state(invoice_id, 2, "ANNOTATED", "1400", t + timedelta(days=1), rcf_number="RCF-1"),
        state(invoice_id, 3, "RECOGNISED", "2400", t + timedelta(days=9)),
        state(invoice_id, 4, "PAID", "2500", t + timedelta(days=21), payment_date=date(2025, 2, 1)),
    ]


def event(invoice_id: str, name: str, day: date, line_no: int = 1) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "state": name,
        "event_date": day,
        "rcf_number": "RCF-1" if name == "ANNOTATED" else None,
        "reason": "no" if name == "REJECTED" else None,
        "import_id": "f" * 64,
        "line_no": line_no,
    }


@dataclass
class Data:
    invoices: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def good(self, invoice_id: str, *, history: bool = True, **overrides: Any) -> None:
        """An invoice that passes every rule (its Facturae parsed, optionally its history)."""
        self.invoices.append(invoice(invoice_id, **overrides))
        self.documents.append(facturae(invoice_id))
        if history:
            self.states.extend(lifecycle(invoice_id))


TABLES = {
    "raw.invoices": "invoices",
    "raw.facturae_documents": "documents",
    "raw.invoice_states": "states",
    "raw.facturae_mismatches": "mismatches",
    "ops.accounting_events": "events",
}


def write(path: Path, data: Data) -> Path:
    with Warehouse(path) as wh:
        for table, attribute in TABLES.items():
            rows = getattr(data, attribute)
            if rows:
                wh.append(table, pa.Table.from_pylist(rows))
    return path


def loosen(path: Path, tables: Iterable[str]) -> None:
    """Drop the key constraints of ``tables`` (a warehouse whose keys can no longer be trusted)."""
    with Warehouse(path) as wh:
        for table in tables:
            wh.con.execute(f"create table {table}_loose as select * from {table} limit 0")
            wh.con.execute(f"drop table {table}")
            wh.con.execute(f"alter table {table}_loose rename to {table.split('.')[1]}")


def quarantine(path: Path, *, open_only: bool = True) -> dict[str, set[str]]:
    """Quality quarantine as reason -> invoice ids (from the published snapshot)."""
    con = open_reader(path)
    try:
        rows = con.execute(
            "select reason, invoice_id from ops.quarantine where stage = 'quality'"
            + (" and resolved_at is null" if open_only else "")
        ).fetchall()
    finally:
        con.close()
    found: dict[str, set[str]] = {}
    for reason, invoice_id in rows:
        found.setdefault(reason, set()).add(invoice_id)
    return found


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = open_reader(path)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
