"""The no-loss invariants, checked against the simulator's own state and request log."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import duckdb

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.connectors.efact.states import State
from rcflow.store import BlobStore


def warehouse_rows(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def acknowledged_on_hub(sim: RunningSimulator) -> set[str]:
    """Invoices the hub saw a successful PATCH DELIVERED for."""
    return {
        r.invoice_id
        for r in sim.hub.log.records()
        if r.method == "PATCH" and r.status == 200 and (r.body or {}).get("estat") == "DELIVERED"
    }


def released_on_hub(sim: RunningSimulator) -> set[str]:
    return {r.attachment_id for r in sim.hub.log.records() if r.method == "DELETE" and r.status == 200}


def assert_nothing_lost(sim: RunningSimulator, settings: Settings) -> None:
    """Everything acknowledged to the hub is in the warehouse, blobs included; nothing twice."""
    store = BlobStore(settings.store_dir)
    stored = {r[0]: r[1] for r in warehouse_rows(settings, "select invoice_id, xml_sha256 from raw.invoices")}
    attachments = dict(warehouse_rows(settings, "select attachment_id, sha256 from raw.attachments"))
    for invoice_id in acknowledged_on_hub(sim):
        assert invoice_id in stored, f"invoice {invoice_id} acknowledged but not stored"
        assert stored[invoice_id] and store.has(stored[invoice_id]), f"XML of {invoice_id} missing"
        served = hashlib.sha256(sim.hub.facturae(invoice_id)).hexdigest()
        assert stored[invoice_id] == served, f"{invoice_id} acknowledged, but what was stored is not its XML"
        assert store.problem(served) is None, f"the stored XML of {invoice_id} is damaged"
        invoice = sim.hub.invoices[invoice_id]
        for att in invoice.attachments:
            if att.arrived and not att.late:
                assert att.id in attachments, f"attachment {att.id} of {invoice_id} missing"
    for attachment_id in released_on_hub(sim):
        assert attachment_id in attachments, f"attachment {attachment_id} released but not stored"
        att = sim.hub.attachments[attachment_id]
        served = hashlib.sha256(sim.hub.attachment(att.invoice_id, attachment_id)[1].read()).hexdigest()
        assert attachments[attachment_id] == served, f"attachment {attachment_id} released, not as served"
        assert store.problem(served) is None
    acks = Counter(
        r.invoice_id
        for r in sim.hub.log.records()
        if r.method == "PATCH" and r.status == 200 and (r.body or {}).get("estat") == "DELIVERED"
    )
    assert not [i for i, n in acks.items() if n > 1], "an invoice was acknowledged twice"


def pending_left(sim: RunningSimulator) -> int:
    return len(sim.hub.pending_ids())


def hub_state(sim: RunningSimulator, invoice_id: str) -> State:
    return sim.hub.invoices[invoice_id].state


def blob_files(root: Path) -> int:
    return sum(1 for p in (root / "sha256").rglob("*") if p.is_file()) if (root / "sha256").exists() else 0
