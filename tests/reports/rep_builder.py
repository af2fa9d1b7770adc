"""Hand-made warehouse data for the report tests: invoices with their hub state histories.

Data goes into a real warehouse file through ``Warehouse`` and Arrow tables, as the sync does.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from rcflow.reports import ReportResult
from rcflow.warehouse import Warehouse

MADRID = ZoneInfo("Europe/Madrid")
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
NO_PAYMENT_DATE = date.min  # a PAID state the hub sent without dataPagament


def at(day: date, hour: int = 12) -> datetime:
    """Noon (or ``hour``) in Madrid on ``day``, as an aware datetime."""
    return datetime.combine(day, time(hour), MADRID)


@dataclass
class Inv:
    """One invoice and its hub history; ``states`` maps a state name to its date or datetime."""

    invoice_id: str
    entity_nif: str
    amount: Decimal | str | int
    registered: date | datetime | None
    states: dict[str, date | datetime] = field(default_factory=dict)
    payment_date: date | None = None  # defaults to the PAID state's date
    supplier_nif: str = "B11111111"
    supplier_name: str = "Proveïdor de proves SL"
    issue_date: date | None = None
    invoice_class: str = "OO"
    reject_reason: str | None = None

    def state_rows(self) -> list[dict]:
        order = ["REGISTERED", "DELIVERED", "ANNOTATED", "RECEIVED", "ACCEPTED",
                 "RECOGNISED", "PAID", "REJECTED"]  # fmt: skip
        events: list[tuple[str, date | datetime]] = []
        if self.registered is not None:
            events.append(("REGISTERED", self.registered))
        events.extend(self.states.items())
        events.sort(key=lambda e: (_aware(e[1]), order.index(e[0])))
        rows = []
        for seq, (state, when) in enumerate(events, start=1):
            stamp = _aware(when)
            payment = None
            if state == "PAID":
                payment = self.payment_date or stamp.astimezone(MADRID).date()
                payment = None if payment == NO_PAYMENT_DATE else payment
            rows.append({
                "invoice_id": self.invoice_id,
                "seq": seq,
                "state": state,
                "state_code": None,
                "state_at": stamp,
                "registry_number": f"E{self.invoice_id}" if state == "REGISTERED" else None,
                "registry_at": stamp if state == "REGISTERED" else None,
                "rcf_number": f"RCF-{self.invoice_id}" if state == "ANNOTATED" else None,
                "reject_code": None,
                "reject_reason": self.reject_reason if state == "REJECTED" else None,
                "payment_date": payment,
                "raw_json": json.dumps({"estat": state}),
                "fetched_at": FETCHED,
            })  # fmt: skip
        return rows

    def invoice_row(self) -> dict:
        amount_cents = int(Decimal(str(self.amount)) * 100)
        registered = _aware(self.registered) if self.registered is not None else None
        return {
            "invoice_id": self.invoice_id,
            "invoice_number": f"F-{self.invoice_id}",
            "issue_date": self.issue_date or (registered.date() if registered else None),
            "amount_cents": amount_cents,
            "supplier_nif": self.supplier_nif,
            "supplier_name": self.supplier_name,
            "entity_nif": self.entity_nif,
            "entity_name": None,
            "registry_number": f"E{self.invoice_id}",
            "registry_at": registered,
            "accounting_office": "L01000001",
            "managing_body": "L01000002",
            "processing_unit": "L01000003",
            "source": "pending",
            "raw_json": json.dumps({"id": self.invoice_id}),
            "first_seen_at": FETCHED,
            "fetched_at": FETCHED,
        }

    def document_row(self) -> dict:
        return {
            "invoice_id": self.invoice_id,
            "sha256": "0" * 64,
            "parse_status": "ok",
            "invoice_class": self.invoice_class,
            "total_cents": int(Decimal(str(self.amount)) * 100),
            "currency": "EUR",
            "parsed_at": FETCHED,
        }


def _aware(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=MADRID)
    return at(value)


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


_TS = pa.timestamp("us", tz="UTC")
INVOICE_SCHEMA = pa.schema([
    ("invoice_id", pa.string()), ("invoice_number", pa.string()), ("issue_date", pa.date32()),
    ("amount_cents", pa.int64()), ("supplier_nif", pa.string()), ("supplier_name", pa.string()),
    ("entity_nif", pa.string()), ("entity_name", pa.string()), ("registry_number", pa.string()),
    ("registry_at", _TS), ("accounting_office", pa.string()), ("managing_body", pa.string()),
    ("processing_unit", pa.string()), ("source", pa.string()), ("raw_json", pa.string()),
    ("first_seen_at", _TS), ("fetched_at", _TS),
])  # fmt: skip
STATE_SCHEMA = pa.schema([
    ("invoice_id", pa.string()), ("seq", pa.int32()), ("state", pa.string()),
    ("state_code", pa.string()), ("state_at", _TS), ("registry_number", pa.string()),
    ("registry_at", _TS), ("rcf_number", pa.string()), ("reject_code", pa.string()),
    ("reject_reason", pa.string()), ("payment_date", pa.date32()), ("raw_json", pa.string()),
    ("fetched_at", _TS),
])  # fmt: skip
DOCUMENT_SCHEMA = pa.schema([
    ("invoice_id", pa.string()), ("sha256", pa.string()), ("parse_status", pa.string()),
    ("invoice_class", pa.string()), ("total_cents", pa.int64()), ("currency", pa.string()),
    ("parsed_at", _TS),
])  # fmt: skip


def load(
    path: Path,
    invoices: Iterable[Inv],
    *,
    entities: Iterable[tuple[str, str]] = (),
    quarantine: Iterable[tuple[str, str, str]] = (),
    accounting: Iterable[tuple[str, str, date]] = (),
) -> Path:
    """Write invoices (replacing their state histories), entities ``(nif, name)``,
    quarantine rows ``(invoice_id, stage, reason)`` and accounting events
    ``(invoice_id, state, date)``; returns the warehouse path. The snapshot is republished."""
    invoices = list(invoices)
    states = [row for inv in invoices for row in inv.state_rows()]
    with Warehouse(path, lock_timeout=30) as wh:
        wh.upsert("raw.invoices", _table([i.invoice_row() for i in invoices], INVOICE_SCHEMA),
                  ["invoice_id"])  # fmt: skip
        wh.upsert("raw.facturae_documents",
                  _table([i.document_row() for i in invoices], DOCUMENT_SCHEMA), ["invoice_id"])
        ids = pa.table({"invoice_id": [i.invoice_id for i in invoices]})
        wh.con.register("_replaced_ids", ids)
        wh.con.execute(
            "delete from raw.invoice_states where invoice_id in (select invoice_id from _replaced_ids)"
        )
        wh.con.unregister("_replaced_ids")
        wh.append("raw.invoice_states", _table(states, STATE_SCHEMA))
        entity_rows = [{"entity_nif": nif, "entity_name": name, "fetched_at": FETCHED}
                       for nif, name in entities]  # fmt: skip
        if entity_rows:
            wh.upsert("raw.entities", pa.Table.from_pylist(entity_rows), ["entity_nif"])
        quarantine_rows = [
            {"invoice_id": i, "stage": s, "reason": r, "detected_at": FETCHED}
            for i, s, r in quarantine
        ]
        if quarantine_rows:
            wh.upsert("ops.quarantine", pa.Table.from_pylist(quarantine_rows),
                      ["invoice_id", "stage", "reason"])  # fmt: skip
        events = [
            {"invoice_id": i, "state": s, "event_date": d, "import_id": "test-import",
             "line_no": n}
            for n, (i, s, d) in enumerate(accounting, start=1)
        ]  # fmt: skip
        if events:
            wh.upsert("ops.accounting_events", pa.Table.from_pylist(events),
                      ["invoice_id", "state"])  # fmt: skip
    return path


@dataclass
class Built:
    """A report run: its result and its outputs read back."""

    result: ReportResult
    out: Path

    @property
    def db(self) -> Path:
        return self.out / "reports.duckdb"

    def query(self, sql: str) -> list[dict]:
        """Rows of a query on the built reports database."""
        with duckdb.connect(str(self.db), read_only=True) as con:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def invoice(self, invoice_id: str) -> dict:
        rows = self.query(f"select * from main.invoice_status where invoice_id = '{invoice_id}'")
        assert len(rows) == 1, f"{invoice_id}: {len(rows)} rows"
        return rows[0]

    def csv(self, name: str) -> list[dict[str, str]]:
        with open(self.out / name, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def row(self, name: str, **match: str) -> dict[str, str]:
        rows = [r for r in self.csv(name) if all(r[k] == v for k, v in match.items())]
        assert len(rows) == 1, f"{name}: {len(rows)} rows match {match}"
        return rows[0]
