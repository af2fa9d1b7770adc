"""The FACe simulator itself: seeded data, its HTTP surface, its command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.credentials import FaceCredentials, load_trusted_certificates
from rcflow.connectors.face.simulator import ApiError, FaceHub, FaceSimConfig, RunningFaceSimulator
from rcflow.connectors.face.simulator.app import FaceSimulatorApp
from rcflow.connectors.face.simulator.certs import certificate_pem
from rcflow.facturae.parse import parse_facturae


def test_same_seed_same_face() -> None:
    config = FaceSimConfig(seed=3, invoices=5, processed=12)
    first, second = FaceHub(config), FaceHub(config)
    assert list(first.invoices) == list(second.invoices)
    assert all(re.fullmatch(r"20\d{10}", n) for n in first.invoices)
    number = first.waiting()[0]
    assert first.document(number) == second.document(number)
    assert {i.state for i in first.invoices.values()} > {first.invoice(number).state}


def test_waiting_invoices_carry_signed_facturae_for_their_office() -> None:
    hub = FaceHub(FaceSimConfig(seed=5, invoices=8, processed=0))
    for number in hub.waiting():
        doc = parse_facturae(hub.document(number))
        assert doc.is_signed and doc.schema_version in {"3.2", "3.2.1", "3.2.2"}
        assert hub.invoice(number).office in {c.centre_code for c in doc.centres}


async def test_new_invoices_join_the_end_of_the_queue(face: FaceClient, hub: FaceHub) -> None:
    before = [i.registry_number for i in (await face.new_invoices()).invoices]
    added = hub.add_invoices(2)
    after = [i.registry_number for i in (await face.new_invoices()).invoices]
    assert after == before + added


async def test_latency_runs_from_the_arrival_with_the_hubs_work_inside_it(
    face: FaceClient, hub: FaceHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the eFACT simulator: an answer leaves ``latency_ms`` after its call arrived, however
    long the hub worked on it (tests/simulator/test_sim_faults.py)."""
    answer = FaceSimulatorApp._answer

    def slow_answer(self: FaceSimulatorApp, *args: object) -> object:
        time.sleep(0.3)  # the hub's own work, as long as most of the latency
        return answer(self, *args)  # type: ignore[arg-type]

    await face.new_invoices()  # connected and warm: the timed call is one exchange
    monkeypatch.setattr(FaceSimulatorApp, "_answer", slow_answer)
    hub.faults = Faults(latency_ms=400)
    started = time.monotonic()
    await face.new_invoices()
    assert 0.39 <= time.monotonic() - started < 0.6  # the latency, not the latency plus the work


async def test_malformed_and_unknown_calls_get_soap_faults(
    server: RunningFaceSimulator, hub: FaceHub
) -> None:
    async with httpx.AsyncClient() as http:
        garbage = await http.post(server.url, content=b"<not xml")
        unknown = await http.post(
            server.url,
            content=(
                b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body>'
                b'<w:enviarFactura xmlns:w="https://webservice.face.gob.es"/></s:Body></s:Envelope>'
            ),
        )
    assert garbage.status_code == 500 and b"soapenv:Client" in garbage.content and b"102" in garbage.content
    assert unknown.status_code == 500 and b"enviarFactura" in unknown.content


async def test_test_controls_over_http(
    server: RunningFaceSimulator, hub: FaceHub, face_id: FaceCredentials, face: FaceClient
) -> None:
    number = next(
        n for n, i in hub.invoices.items() if i.state.value == "1300" and i.cancellation.value == "4100"
    )
    async with httpx.AsyncClient(base_url=server.admin_url + "/") as http:
        assert (await http.get("certificate")).content == certificate_pem(face_id)
        assert (
            await http.post("cancellation", json={"numeroRegistro": number, "motivo": "Duplicada"})
        ).is_success
        assert (await http.get(f"state/{number}")).json()["cancellation"] == "4200"
        assert (
            await http.post("inject", json={"operation": "consultarEstados", "status": 200, "code": "001"})
        ).is_success
        assert (await http.post("add-invoices", json={"count": 1})).json()["added"]
    assert number in [r.registry_number for r in (await face.new_cancellations()).requests]


async def test_python_m_serve_answers_a_registered_client(
    tmp_path: Path, client_id: FaceCredentials, make_client: Callable[..., FaceClient]
) -> None:
    """The real command (``rcflow hub serve --hub face``), as a separate process on a free port."""
    client_pem = tmp_path / "client.pem"
    client_pem.write_bytes(certificate_pem(client_id))
    face_pem = tmp_path / "face-server.pem"  # written by the simulator into --dir: what clients pin
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rcflow.connectors.face.simulator",
            "--port",
            "0",
            "--invoices",
            "3",
            "--processed",
            "0",
            "--register",
            str(client_pem),
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        url = re.search(r"(http://\S+/facturasrcf2)", line)
        assert url, line + process.stderr.read()  # type: ignore[union-attr]
        async with FaceClient(url.group(1), client_id, load_trusted_certificates(face_pem)) as face:
            assert len((await face.new_invoices()).invoices) == 3
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_empty_face_answers_empty_lists() -> None:
    hub = FaceHub(FaceSimConfig(invoices=0, processed=0, cancellations=0))
    assert hub.new_invoices({"oficinaContable": ""}) == {"facturas": {"solicitarNuevasFacturas": []}}


async def test_cancellation_requests_can_arrive_on_their_own(face: FaceClient, hub: FaceHub) -> None:
    hub.config = hub.config.with_(cancellation_arrival_rate=1.0)
    before = {r.registry_number for r in (await face.new_cancellations()).requests}  # this call brings one
    await face.states()
    after = {r.registry_number for r in (await face.new_cancellations()).requests}
    assert len(before) == 3 and len(after) == 5 and before < after


@pytest.mark.parametrize("target", ["1200", "1300", "3100", "4300", "7777"])
def test_face_itself_refuses_forbidden_targets_with_505(target: str) -> None:
    """The client refuses these before sending; the simulated FACe enforces them too."""
    hub = FaceHub(FaceSimConfig(seed=2, invoices=1, processed=12))
    inv = next(i for i in hub.invoices.values() if i.state.value == "1300")
    with pytest.raises(ApiError) as caught:
        hub.dispatch(
            "cambiarEstadoFactura",
            {
                "oficinaContable": inv.office,
                "numeroRegistro": inv.registry_number,
                "codigo": target,
                "comentario": "x",
            },
        )
    assert caught.value.code == "505" and inv.state.value == "1300"


def test_a_cancelled_invoice_cannot_be_downloaded_or_moved() -> None:
    hub = FaceHub(FaceSimConfig(seed=2, invoices=1, processed=12))
    number = hub.waiting()[0]
    hub.force_state(number, "3100")
    with pytest.raises(ApiError, match="^502"):
        hub.dispatch("descargarFactura", {"numeroRegistro": number})
    with pytest.raises(ApiError, match="^505"):
        hub.dispatch(
            "cambiarEstadoFactura",
            {"oficinaContable": hub.invoice(number).office, "numeroRegistro": number, "codigo": "2400"},
        )
