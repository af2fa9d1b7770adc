"""`rcflow cancellations …` and `rcflow status` end to end: the FACe simulator on loopback, a real
warehouse file, the real command line (Typer's runner, in process)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cancel_support import PREFIX, open_invoice, requested
from typer.testing import CliRunner

from rcflow.cli import cancellation_cmds
from rcflow.cli.main import app
from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.simulator import FaceHub, RunningFaceSimulator, write_pem
from rcflow.connectors.face.simulator.certs import certificate_pem
from rcflow.ingest.cancellations import drain_cancellations
from rcflow.warehouse import Warehouse

ANSWER = "gestionarSolicitudAnulacionFactura"
Run = Callable[..., tuple[int, str, str]]
REAL_HUB_CONNECTOR = cancellation_cmds.hub_connector


@pytest.fixture
def run(warehouse_path: Path, monkeypatch: pytest.MonkeyPatch, make_face: Callable[[], FaceConnector]) -> Run:
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(warehouse_path))
    monkeypatch.setattr(cancellation_cmds, "hub_connector", lambda config: make_face())

    def invoke(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def _drain(make_face: Callable[[], FaceConnector], path: Path) -> None:
    async def go() -> None:
        face = make_face()
        try:
            with Warehouse(path) as wh:
                await drain_cancellations(face, wh)
        finally:
            await face.aclose()

    asyncio.run(go())


def test_a_request_is_listed_accepted_sent_and_the_invoice_cancelled(
    run: Run, hub: FaceHub, server: RunningFaceSimulator
) -> None:
    number = open_invoice(hub)
    asked = httpx.post(f"{server.admin_url}/cancellation",
                       json={"numeroRegistro": number, "motivo": "Factura duplicada per error"})  # fmt: skip
    assert asked.status_code == 200
    code, out, _ = run("cancellations", "fetch", "--json")
    assert code == 0 and PREFIX + number in json.loads(out)["open_requests"]

    code, out, _ = run("cancellations", "list", "--json")
    assert code == 0
    listed = {r["invoice_id"]: r for r in json.loads(out)}
    assert set(listed) == {PREFIX + n for n in requested(hub)}
    assert listed[PREFIX + number]["reason"] == "Factura duplicada per error"
    assert listed[PREFIX + number]["decision"] is None

    code, out, _ = run("cancellations", "accept", number, "--reason", "Duplicada", "--by", "ana", "--json")
    assert code == 0 and json.loads(out)["invoice_id"] == PREFIX + number  # without the face: prefix
    code, out, _ = run("status", "--json")
    section = json.loads(out)["cancellation_requests"]
    assert (section["open"], section["waiting_to_send"], section["undecided"]) == (3, 1, 2)
    code, out, _ = run("status")
    assert "cancellation requests open: 3 (2 undecided, 1 decisions waiting to be sent" in " ".join(
        out.split()
    )

    code, out, _ = run("cancellations", "send", "--json")
    assert code == 0, out
    assert [s["invoice_id"] for s in json.loads(out)["sent"]] == [PREFIX + number]
    assert httpx.get(f"{server.admin_url}/state/{number}").json()["cancellation"] == "4300"
    assert httpx.get(f"{server.admin_url}/state/{number}").json()["state"] == "3100"

    code, out, _ = run("cancellations", "list", "--json")
    assert PREFIX + number not in {r["invoice_id"] for r in json.loads(out)}
    code, out, _ = run(
        "sql", "select hub_state from invoices where invoice_id = 'face:" + number + "'", "-f", "json"
    )
    assert json.loads(out) == [{"hub_state": "CANCELLED"}]
    code, out, _ = run("sql", "select decided_by, via, status from cancellation_decisions", "-f", "json")
    assert json.loads(out) == [{"decided_by": "ana", "via": "command", "status": "sent"}]
    code, out, _ = run("cancellations", "send")
    assert code == 0 and "0 decisions due" in out
    assert len(hub.log.records(ANSWER)) == 1


def test_reject_and_the_plain_listing(
    run: Run, hub: FaceHub, make_face: Callable[[], FaceConnector], warehouse_path: Path
) -> None:
    _drain(make_face, warehouse_path)
    first, second = requested(hub)
    code, out, _ = run("cancellations", "reject", PREFIX + first, "--reason", "Ja conformada", "--by", "joan")
    assert code == 0 and "rejected the cancellation request of face:" in out
    code, out, _ = run("cancellations", "list")
    text = " ".join(out.split())
    assert "2 cancellation requests open; 1 decisions waiting to be sent" in text
    assert "reject (pending) by joan: Ja conformada" in text and "undecided" in text
    code, out, _ = run("cancellations", "send")
    assert code == 0 and "1 sent" in out
    assert hub.invoice(first).cancellation is CancellationState.REJECTED
    assert hub.invoice(second).cancellation is CancellationState.REQUESTED


def test_exit_codes(
    run: Run, hub: FaceHub, make_face: Callable[[], FaceConnector], warehouse_path: Path
) -> None:
    _drain(make_face, warehouse_path)
    number = requested(hub)[0]
    code, _, err = run("cancellations", "accept", "209912345678", "--reason", "x")
    assert code == 2 and err.startswith("rcflow: no cancellation request for invoice '209912345678'")
    code, _, err = run("cancellations", "accept", number, "--reason", "  ")
    assert code == 2 and "a reason is required" in err
    code, _, err = run("cancellations", "accept", number)
    assert code == 2  # --reason is mandatory
    code, _, err = run("cancellations", "accept", "2025", "--reason", "x")  # no request ends like that
    assert code == 2 and err.startswith("rcflow:")

    code, _, _ = run("cancellations", "accept", number, "--reason", "Duplicada")
    assert code == 0
    hub.inject(ANSWER, status=200, code="512", times=1)
    code, out, _ = run("cancellations", "send")
    assert code == 1 and f"refused {PREFIX}{number} accept code 512" in out
    code, out, _ = run("status", "--json")
    assert json.loads(out)["cancellation_requests"]["refused"] == 1

    hub.inject(ANSWER, status=500, times=1)  # before the hub: no answer, not applied
    code, _, _ = run("cancellations", "accept", number, "--reason", "Duplicada, second try")
    assert code == 0
    code, out, _ = run("cancellations", "send")
    assert code == 1 and f"no answer {PREFIX}{number}" in out
    code, _, err = run("cancellations", "reject", number, "--reason", "other")
    assert code == 2 and "being sent" in err
    code, out, _ = run("cancellations", "send")
    assert code == 0 and "1 sent" in out
    assert hub.invoice(number).state is State.CANCELLED


def test_credit_assignments_are_fetched_and_listed(run: Run, hub: FaceHub) -> None:
    code, out, _ = run("cancellations", "fetch")
    assert code == 0 and "3 cancellation requests open" not in out
    code, out, _ = run("cancellations", "credit-assignments", "--json")
    listed = {r["invoice_id"]: r["state_code"] for r in json.loads(out)}
    on_hub = {PREFIX + n: i.credit[0] for n, i in hub.invoices.items() if i.credit}
    open_ones = {PREFIX + n for n, i in hub.invoices.items() if i.state.value not in ("2500", "2600", "3100")}
    assert listed == {k: v for k, v in on_hub.items() if k in open_ones}
    assert listed  # the seeded hub has some on open invoices
    code, out, _ = run("cancellations", "credit-assignments")
    assert code == 0 and f"{len(listed)} credit assignments" in out


def test_a_hub_without_cancellations_and_no_warehouse(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cancellation_cmds, "hub_connector", REAL_HUB_CONNECTOR)
    code, _, err = run("cancellations", "send")
    assert code == 2 and "RCFLOW_HUB_URL" in err and err.startswith("rcflow:")  # no hub configured
    # the registry's eFACT connector (never called: eFACT has no cancellation requests)
    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")
    monkeypatch.setenv("RCFLOW_ISSUER", "tests")
    monkeypatch.setenv("RCFLOW_SECRET", "s" * 32)
    code, _, err = run("cancellations", "send")
    assert code == 2 and err.strip() == "rcflow: the efact hub has no cancellation requests: nothing to send"
    code, _, err = run("cancellations", "fetch")
    assert code == 2 and "the efact hub has no cancellation requests nor credit assignments" in err
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "none" / "w.duckdb"))
    code, _, err = run("cancellations", "list")
    assert code == 2 and err.startswith("rcflow: no warehouse at")  # configuration, as status


def test_the_commands_reach_face_through_the_registry(
    run: Run, hub: FaceHub, server: RunningFaceSimulator, client_id: FaceCredentials,
    face_id: FaceCredentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    """No stand-in: the settings an operator writes, the connector the registry builds."""
    server_cert = tmp_path / "face.pem"
    server_cert.write_bytes(certificate_pem(face_id))
    offices = sorted({office for office, _, _ in hub.offices})
    monkeypatch.setattr(cancellation_cmds, "hub_connector", REAL_HUB_CONNECTOR)
    monkeypatch.setenv("RCFLOW_FACE_URL", server.url)
    monkeypatch.setenv("RCFLOW_FACE_CERT", str(write_pem(client_id, tmp_path / "platform.pem")))
    monkeypatch.setenv("RCFLOW_FACE_SERVER_CERT", str(server_cert))
    monkeypatch.setenv("RCFLOW_FACE_OFFICES", ",".join(offices))
    code, out, err = run("cancellations", "fetch", "--json")
    assert code == 0, err
    assert sorted(json.loads(out)["open_requests"]) == [PREFIX + n for n in requested(hub)]
    number = requested(hub)[0]
    code, _, _ = run("cancellations", "reject", number, "--reason", "La factura és correcta")
    assert code == 0
    code, out, err = run("cancellations", "send", "--json")  # a new process: it lists to find the office
    assert code == 0, err
    assert [s["invoice_id"] for s in json.loads(out)["sent"]] == [PREFIX + number]
    assert hub.invoice(number).cancellation.value == "4400"


def test_a_face_sync_stores_the_requests_without_a_separate_fetch(
    run: Run, hub: FaceHub, server: RunningFaceSimulator, client_id: FaceCredentials,
    face_id: FaceCredentials, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    """`rcflow sync` drains FACe's cancellation requests and credit assignments after the invoices."""
    server_cert = tmp_path / "face.pem"
    server_cert.write_bytes(certificate_pem(face_id))
    monkeypatch.setenv("RCFLOW_FACE_URL", server.url)
    monkeypatch.setenv("RCFLOW_FACE_CERT", str(write_pem(client_id, tmp_path / "platform.pem")))
    monkeypatch.setenv("RCFLOW_FACE_SERVER_CERT", str(server_cert))
    monkeypatch.setenv("RCFLOW_FACE_OFFICES", ",".join(sorted({o for o, _, _ in hub.offices})))
    monkeypatch.delenv("RCFLOW_HUB_URL", raising=False)
    code, out, err = run("sync", "--hub", "face", "--json")
    assert code == 0, err + out
    summary = json.loads(out)
    assert summary["cancellation_requests"] == len(requested(hub)) > 0
    assert summary["credit_assignments"] >= 1
    code, out, _ = run("cancellations", "list", "--json")
    assert code == 0 and {r["invoice_id"] for r in json.loads(out)} == {PREFIX + n for n in requested(hub)}
