"""Helpers for the cancellation tests (a module of its own name: a test never imports a conftest).

``seed_invoices`` stores the simulator's invoices in a warehouse as a FACe sync would
(``face:<numeroRegistro>``, ``source_hub = 'face'``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.simulator import FaceHub
from rcflow.warehouse import Warehouse
from rcflow.warehouse.tables import TABLES, with_source

PREFIX = "face:"
STATE_NAMES = {
    State.REGISTERED: "REGISTERED", State.REGISTERED_RCF: "ANNOTATED", State.SENT_TO_UNIT: "ANNOTATED",
    State.RECEIVED: "RECEIVED", State.CONFORMED: "ACCEPTED", State.RECOGNISED: "RECOGNISED",
    State.PAID: "PAID", State.REJECTED: "REJECTED", State.CANCELLED: "CANCELLED",
}  # fmt: skip


def _at(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None


def seed_invoices(wh: Warehouse, hub: FaceHub, numbers: list[str] | None = None) -> list[str]:
    """Store the simulator's invoices (and their histories) as a FACe sync would; returns the ids."""
    now = datetime.now(UTC)
    invoices, states = [], []
    for inv in hub.invoices.values():
        if numbers is not None and inv.registry_number not in numbers:
            continue
        invoice_id = PREFIX + inv.registry_number
        last_code, last_ms, _ = inv.history[-1]
        invoices.append({
            "invoice_id": invoice_id, "invoice_number": inv.doc.number, "issue_date": inv.doc.issue_date,
            "amount_cents": inv.doc.amount_cents, "supplier_nif": inv.doc.supplier.tax_id,
            "supplier_name": inv.doc.supplier.name, "entity_nif": inv.doc.entity.cif,
            "entity_name": inv.doc.entity.name, "registry_number": inv.registry_number,
            "registry_at": _at(inv.registered_ms), "rcf_number": inv.rcf_code,
            "accounting_office": inv.office, "hub_state": STATE_NAMES[State(last_code)],
            "hub_state_at": _at(last_ms), "face_registry_number": inv.registry_number,
            "face_registry_at": _at(inv.registered_ms), "xml_sha256": "0" * 64, "source": "pending",
            "raw_json": "{}", "first_seen_at": now, "fetched_at": now,
        })  # fmt: skip
        for seq, (code, at_ms, comment) in enumerate(inv.history):
            states.append({
                "invoice_id": invoice_id, "seq": seq, "state": STATE_NAMES[State(code)], "state_code": code,
                "state_at": _at(at_ms), "raw_json": "{}", "fetched_at": now,
                "reject_reason": comment or None,
            })  # fmt: skip
    with wh.transaction():
        for name, rows in (("raw.invoices", invoices), ("raw.invoice_states", states)):
            table = pa.Table.from_pylist(rows, schema=TABLES[name].row_schema())
            wh.upsert(name, with_source(table, "face"), list(TABLES[name].key))
    return [r["invoice_id"] for r in invoices]


def requested(hub: FaceHub) -> list[str]:
    """Registry numbers with a request waiting on the simulated hub."""
    return sorted(n for n, i in hub.invoices.items() if i.cancellation is CancellationState.REQUESTED)


def open_invoice(hub: FaceHub) -> str:
    """A confirmed, open invoice with no cancellation request (for a new request)."""
    return next(
        n
        for n, i in sorted(hub.invoices.items())
        if i.state in (State.REGISTERED_RCF, State.RECEIVED) and i.cancellation is CancellationState.NONE
    )
