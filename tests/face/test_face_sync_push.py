"""Accounting events become FACe state changes: sync, import, push, and a second push sends nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import polars as pl
from face_sync_support import face_settings, push_face, rows, sync_face

from rcflow import clock
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.settings import FaceSettings
from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig, RunningFaceSimulator
from rcflow.connectors.face.simulator.certs import certificate_pem, write_pem
from rcflow.push import execute
from rcflow.push.accounting import import_events
from rcflow.warehouse import Warehouse

WRITES = ("cambiarEstadoListadoFacturas", "cambiarEstadoFactura", "cambiarCodigoRCF")


def _writes(hub: FaceHub) -> int:
    return sum(len(hub.log.records(op)) for op in WRITES)


def _events(path: Path, rows: list[tuple]) -> Path:
    frame = pl.DataFrame(
        rows, schema=["invoice_id", "state", "date", "rcf_number", "reason_code", "reason"], orient="row"
    )
    frame.write_csv(path)
    return path


def _push(settings: FaceSettings, warehouse: Path) -> execute.PushSummary:
    return asyncio.run(push_face(settings, warehouse))


def test_accounting_events_become_face_state_changes_once(
    server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials, tmp_path: Path
) -> None:
    config = FaceSimConfig(seed=9, invoices=6, processed=0, cancellations=0, credit_assignments=0)
    hub = server.reset(FaceHub(config, identity=face_id, clients=(client_id.certificate,)))
    cert = write_pem(client_id, tmp_path / "platform.pem")
    server_cert = tmp_path / "face.pem"
    server_cert.write_bytes(certificate_pem(face_id))
    settings = face_settings(server.url, cert, server_cert)
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    a, b, c = hub.waiting()[:3]
    assert asyncio.run(sync_face(settings, warehouse)).ok
    day = clock.today() - timedelta(days=1)
    events = _events(
        tmp_path / "events.csv",
        [
            (f"face:{a}", "ANNOTATED", str(day - timedelta(days=2)), "RCF/2026/0001", None, None),
            (f"face:{a}", "RECOGNISED", str(day - timedelta(days=1)), None, None, None),
            (f"face:{a}", "PAID", str(day), None, None, None),
            (f"face:{b}", "RECOGNISED", str(day), None, None, None),
            (f"face:{c}", "REJECTED", str(day), None, "E01", "Falta el número de expediente"),
        ],
    )
    with Warehouse(warehouse) as wh:
        imported = import_events(wh, events)
    assert imported.new_events == 5 and not imported.problems, imported
    summary = _push(settings, warehouse)
    assert summary.ok and summary.pushed == 5, summary.as_dict()
    assert hub.invoice(a).state.value == "2500" and hub.invoice(a).rcf_code == "RCF/2026/0001"
    assert hub.invoice(b).state.value == "2400" and hub.invoice(c).state.value == "2600"
    assert hub.invoice(c).history[-1][2].endswith("Falta el número de expediente")
    # Each push call's codigoSeguimiento is in the audit, the very one FACe answered that call.
    answered: dict[str, set[str | None]] = {}
    for op in WRITES:
        for record in hub.log.records(op):
            for number in record.registry_numbers:
                answered.setdefault(f"face:{number}", set()).add(record.tracking)
    audited: dict[str, set[str | None]] = {}
    for invoice_id, reference in rows(warehouse, "select invoice_id, hub_reference from ops.push_audit"):
        audited.setdefault(invoice_id, set()).add(reference)
    assert audited == answered and None not in set().union(*audited.values())
    assert len(audited[f"face:{a}"]) == 3  # ANNOTATED, RECOGNISED, PAID: three calls
    writes = _writes(hub)
    again = _push(settings, warehouse)
    assert again.pushed == 0 and _writes(hub) == writes, again.as_dict()
