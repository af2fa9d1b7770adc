"""The efirma GO connector against its simulator over loopback: the circuit, every code, faults."""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

import httpx
import pytest
from efirma_support import CLIENT, DEVELOPER, PRIVATE_KEY, make_pdf, make_request, settings_for
from pypdf import PdfReader

from rcflow.signing.efirma.client import REFERENCE_KEY, EfirmaClient
from rcflow.signing.efirma.errors import EfirmaError, Kind
from rcflow.signing.efirma.settings import EfirmaSettings
from rcflow.signing.efirma.simulator import Fault, RunningEfirma
from rcflow.signing.signer import Placement, Signatory, SignatureRequest, SignatureState, SigningInputError


def test_a_document_is_sent_followed_signed_fetched_and_marked(
    efirma: RunningEfirma, client: EfirmaClient
) -> None:
    original = make_pdf(pages=2)
    operation = client.send(make_request(pdf=original))
    [status] = client.statuses([operation])
    assert status.state is SignatureState.IN_PROCESS and status.keys[REFERENCE_KEY] == "pmp/2025-11"
    assert [p.done for p in status.signatories] == [False, False, False]
    with pytest.raises(EfirmaError, match=f"no signed document for operation {operation}"):
        client.fetch_signed(operation)

    efirma.sim.act(operation, "sign")
    [status] = client.statuses([operation])
    assert status.state is SignatureState.SIGNED and status.verification_code
    signed = client.fetch_signed(operation)
    assert signed != original and signed.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(signed))
    assert len(reader.pages) == 2 and status.verification_code in str(reader.metadata.get("/Subject"))

    client.mark_downloaded([operation])
    assert efirma.sim.documents[operation].downloaded


def test_blocks_follow_the_signing_order_over_time(efirma: RunningEfirma, client: EfirmaClient) -> None:
    efirma.sim.sign_after = 0.3
    operation = client.send(make_request())
    sent = efirma.sim.documents[operation]
    assert [(b["tipo_bloque"], b["orden"], b["minimo"]) for b in sent.blocks] == [
        ("firma", 1, 1),
        ("firma", 2, 1),
        ("copia", 3, 1),
    ]
    time.sleep(0.35)
    [status] = client.statuses([operation])
    assert status.state is SignatureState.IN_PROCESS
    assert [p.done for p in status.signatories] == [True, False, False]
    time.sleep(0.65)
    [status] = client.statuses([operation])
    assert status.state is SignatureState.SIGNED


def test_a_lost_answer_never_sends_the_document_twice(efirma: RunningEfirma) -> None:
    efirma.sim.faults.append(Fault("/enviar_documento", "lose_answer"))
    with EfirmaClient(settings_for(efirma, timeout=0.5), backoff=0.01) as impatient:
        operation = impatient.send(make_request("morosity/2025-Q4"))
    assert list(efirma.sim.documents) == [operation]
    assert [entry for entry in efirma.sim.log if entry[0] == "/enviar_documento"] == [
        ("/enviar_documento", "0000")
    ]


def test_sending_again_after_a_crash_finds_the_document_already_there(
    client: EfirmaClient, efirma: RunningEfirma
) -> None:
    first = client.send(make_request("art10/2025-Q4"))
    assert client.send(make_request("art10/2025-Q4")) == first
    assert len(efirma.sim.documents) == 1


def test_a_rejected_document_can_be_sent_anew(client: EfirmaClient, efirma: RunningEfirma) -> None:
    first = client.send(make_request("pmp/2025-10"))
    efirma.sim.act(first, "reject")
    [status] = client.statuses([first])
    assert status.state is SignatureState.REJECTED
    second = client.send(make_request("pmp/2025-10"))
    assert second != first and len(efirma.sim.documents) == 2


def test_a_document_cancelled_while_waiting_is_reported_cancelled(
    client: EfirmaClient, efirma: RunningEfirma
) -> None:
    operation = client.send(make_request())
    efirma.sim.act(operation, "cancel")
    assert [s.state for s in client.statuses()] == [SignatureState.CANCELLED]
    assert SignatureState.CANCELLED.is_final


@pytest.mark.parametrize("fault", ["http500", "code0500"])
def test_an_unavailable_service_is_retried_without_a_duplicate(
    efirma: RunningEfirma, client: EfirmaClient, fault: str
) -> None:
    efirma.sim.faults.append(Fault("/enviar_documento", fault))
    client.send(make_request())
    assert len(efirma.sim.documents) == 1


def test_an_html_page_is_a_clear_error(efirma: RunningEfirma) -> None:
    efirma.sim.faults.append(Fault("/descargar_documentos", "html", times=5))
    with EfirmaClient(settings_for(efirma), backoff=0.01) as client, pytest.raises(EfirmaError) as caught:
        client.statuses()
    assert str(caught.value) == "efirma GO list: the answer is not JSON (text/html) [code -]"
    assert caught.value.kind is Kind.UNAVAILABLE


def test_listings_page_through_every_document(efirma: RunningEfirma, client: EfirmaClient) -> None:
    sent = {client.send(make_request(f"doc/{n}")) for n in range(23)}
    assert {s.operation_id for s in client.statuses()} == sent
    pages = [e for e in efirma.sim.log if e[0] == "/descargar_documentos"]
    assert len(pages) >= 3 + 23  # each send looks its reference up first; the full listing took 3 pages


def test_a_wrong_private_key_is_a_credentials_error_that_does_not_show_the_key(efirma: RunningEfirma) -> None:
    wrong = "pk-WRONG-" + "x" * 20
    with (
        EfirmaClient(settings_for(efirma, private_key=wrong)) as client,
        pytest.raises(EfirmaError) as caught,
    ):
        client.statuses()
    assert caught.value.kind is Kind.CREDENTIALS and caught.value.code == "0002"
    assert "private key is not valid" in str(caught.value) and wrong not in str(caught.value)
    assert wrong not in repr(client) and wrong not in repr(settings_for(efirma, private_key=wrong))


def test_the_private_key_reaches_no_log(
    efirma: RunningEfirma, client: EfirmaClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    efirma.sim.faults.append(Fault("/descargar_documentos", "http500"))
    client.send(make_request())
    assert PRIVATE_KEY not in caplog.text


def test_positions_outside_the_document_are_refused_with_their_coordinates(client: EfirmaClient) -> None:
    with pytest.raises(EfirmaError) as caught:
        client.send(make_request(placements=(Placement(3, 100, 100),)))
    assert caught.value.code == "0024" and "Coordenada X: 100" in str(caught.value)


def test_local_checks_refuse_what_no_service_would_take() -> None:
    with pytest.raises(SigningInputError, match="outside an A4 page"):
        Placement(1, 900, 10)
    with pytest.raises(SigningInputError, match="not an e-mail address"):
        Signatory("Marta", "marta.at.example")
    with pytest.raises(SigningInputError, match="not a mobile number"):
        Signatory("Marta", "marta@example.cat", phone="600-111")
    with pytest.raises(SigningInputError, match="not a PDF"):
        make_request(pdf=b"<html>")
    with pytest.raises(SigningInputError, match="advanced signature needs a mobile number"):
        SignatureRequest("x", make_pdf(), (Signatory("Marta", "m@example.cat"),), advanced=True)


def _base_payload() -> dict[str, Any]:
    return {
        "private_key": PRIVATE_KEY,
        "cif_desarrollador": DEVELOPER,
        "cif_cliente": CLIENT,
        "email_cliente": "intervencio@aj.cat",
        "nombre_cliente": "Ajuntament",
        "bloques": [
            {
                "tipo_bloque": "firma",
                "minimo": "1",
                "orden": "1",
                "destinatarios": [
                    {
                        "nombre_destinatario": "Marta",
                        "email_destinatario": "marta@aj.cat",
                        "telefono_destinatario": "+34600111222",
                        "mensaje_privado": "",
                        "firma_multiple": [{"pagina": "1", "coordenada_x": "149", "coordenada_y": "950"}],
                    }
                ],
            }
        ],
    }


def _person(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["bloques"][0]["destinatarios"][0]


CASES: list[tuple[str, Any]] = [
    ("0002", lambda p: p.update(private_key="nope")),
    ("0003", lambda p: p.update(email_cliente="nope")),
    ("0023", lambda p: p.update(cif_cliente="A00000000")),
    ("0030", lambda p: p.update(tarifa_cliente="Tarifa Galàctica")),
    ("0007", lambda p: p.update(bloques=[])),
    ("0032", lambda p: p["bloques"][0].update(tipo_bloque="signatura")),
    ("0010", lambda p: p["bloques"][0].update(destinatarios=[])),
    ("0008", lambda p: p["bloques"][0].update(minimo="2")),
    ("0009", lambda p: p["bloques"][0].update(orden="2")),
    ("0011", lambda p: _person(p).update(nombre_destinatario=" ")),
    ("0014", lambda p: _person(p).update(email_destinatario="marta@")),
    ("0016", lambda p: _person(p).update(telefono_destinatario="+3460011122233")),
    ("0027", lambda p: (p.update(tipo_seguridad="avanzada"), _person(p).pop("telefono_destinatario"))),
    ("0024", lambda p: _person(p)["firma_multiple"][0].update(coordenada_y="1200")),
    ("0025", lambda p: _person(p)["firma_multiple"][0].update(pagina="primera")),
]


@pytest.mark.parametrize(("code", "change"), CASES, ids=[c for c, _ in CASES])
def test_the_simulator_refuses_as_the_service_does(efirma: RunningEfirma, code: str, change: Any) -> None:
    payload = _base_payload()
    change(payload)
    answer = httpx.post(
        f"{efirma.url}/enviar_documento",
        data={"json": json.dumps(payload)},
        files={"archivo": ("a.pdf", make_pdf(), "application/pdf")},
    ).json()
    assert answer["estado_operacion"] == code and answer["mensaje_operacion"]
    assert not efirma.sim.documents


@pytest.mark.parametrize(
    ("code", "body"),
    [("0005", b"plain text"), ("0005", make_pdf(password="secret")), ("0004", b"%PDF-1.7\n garbage")],
)
def test_unreadable_or_protected_pdfs_are_refused(efirma: RunningEfirma, code: str, body: bytes) -> None:
    answer = httpx.post(
        f"{efirma.url}/enviar_documento",
        data={"json": json.dumps(_base_payload())},
        files={"archivo": ("a.pdf", body, "application/pdf")},
    ).json()
    assert answer["estado_operacion"] == code


def test_an_unreadable_json_field_and_identity_conflicts(efirma: RunningEfirma) -> None:
    url = f"{efirma.url}/enviar_documento"
    files = {"archivo": ("a.pdf", make_pdf(), "application/pdf")}
    assert httpx.post(url, data={"json": "{not json"}, files=files).json()["estado_operacion"] == "0022"
    first = _base_payload()
    _person(first)["identificador_destinatario"] = "INT-1"
    assert httpx.post(url, data={"json": json.dumps(first)}, files=files).json()["estado_operacion"] == "0000"
    same_mail = _base_payload()
    _person(same_mail)["identificador_destinatario"] = "INT-2"
    assert (
        httpx.post(url, data={"json": json.dumps(same_mail)}, files=files).json()["estado_operacion"]
        == "0028"
    )
    same_id = _base_payload()
    _person(same_id).update(identificador_destinatario="INT-1", email_destinatario="other@aj.cat")
    assert (
        httpx.post(url, data={"json": json.dumps(same_id)}, files=files).json()["estado_operacion"] == "0026"
    )


def test_the_signed_listing_needs_a_search_field(efirma: RunningEfirma) -> None:
    payload = {"private_key": PRIVATE_KEY, "cif_desarrollador": DEVELOPER, "cif_cliente": CLIENT}
    answer = httpx.post(
        f"{efirma.url}/descargar_documentos_firmados/1", data={"json": json.dumps(payload)}
    ).json()
    assert answer["estado_operacion"] == "0004"


def test_a_missing_setting_is_named() -> None:
    with pytest.raises(EfirmaError, match="RCFLOW_EFIRMA_PRIVATE_KEY, RCFLOW_EFIRMA_CLIENT_CIF not set"):
        EfirmaClient(EfirmaSettings(developer_cif="B1", url="http://127.0.0.1:9"))
