"""Retries and their limits: reads retry transport failures and 5xx, writes are sent once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rcflow.connectors.face import client as client_module
from rcflow.connectors.face import wire
from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.codes import State
from rcflow.connectors.face.errors import (
    FaceFault,
    FaceHttpError,
    FaceProtocolError,
    FaceSignatureServiceError,
    FaceTimeout,
    FaceTransportError,
    FaceUndefinedError,
)
from rcflow.connectors.face.models import StateChange
from rcflow.connectors.face.simulator import FaceHub


def _calls(hub: FaceHub, operation: str) -> int:
    return len(hub.log.records(operation))


async def test_reads_retry_500s_and_dropped_connections(
    make_client: Callable[..., FaceClient], hub: FaceHub
) -> None:
    number = hub.waiting()[0]
    hub.inject("descargarFactura", status=500, times=2)
    hub.inject("descargarFactura", drop=True, times=1)
    hub.inject("descargarFactura", partial=True, times=1)
    async with make_client(max_retries=4) as face:
        invoice = await face.download(number)
        assert invoice.document == hub.document(number)
        assert face.stats.retries == 4 and _calls(hub, "descargarFactura") == 5


async def test_reads_retry_a_timeout(make_client: Callable[..., FaceClient], hub: FaceHub) -> None:
    # A deadline the second, prompt answer meets even on a loaded machine (0.5 s was missed once,
    # which made two retries), and a first answer well past it.
    hub.inject("consultarEstados", status=None, delay_ms=6000, times=1)
    async with make_client(timeout=2.0) as face:
        assert await face.states()
        assert face.stats.retries == 1


async def test_a_persistent_500_gives_up_with_one_line(
    make_client: Callable[..., FaceClient], hub: FaceHub
) -> None:
    hub.inject("consultarEstados", status=500, times=None)
    async with make_client(max_retries=2) as face:
        with pytest.raises(
            FaceFault, match=r"^consultarEstados: FACe answered a SOAP fault \(soapenv:Server\)"
        ):
            await face.states()
    assert _calls(hub, "consultarEstados") == 3


async def test_client_faults_and_http_4xx_are_not_retried(face: FaceClient, hub: FaceHub) -> None:
    hub.inject("consultarEstados", status=500, body=wire.fault_envelope("soapenv:Client", "Firma no válida"))
    with pytest.raises(FaceFault, match="Firma no válida") as caught:
        await face.states()
    assert caught.value.client_side
    hub.inject("consultarUnidades", status=403, body=b"Forbidden")
    with pytest.raises(FaceHttpError, match="HTTP 403"):
        await face.units()
    assert face.stats.retries == 0


@pytest.mark.parametrize(("code", "error"), [("001", FaceUndefinedError), ("201", FaceSignatureServiceError)])
async def test_result_codes_are_typed_and_not_retried(
    face: FaceClient, hub: FaceHub, code: str, error: type[Exception]
) -> None:
    hub.inject("consultarEstados", status=200, code=code)
    with pytest.raises(error, match=rf"\({code}\)"):
        await face.states()
    assert _calls(hub, "consultarEstados") == 1


async def test_a_confirm_whose_answer_is_lost_is_not_resent_and_says_it_is_ambiguous(
    face: FaceClient,
    hub: FaceHub,
) -> None:
    number = hub.waiting()[0]
    office = hub.invoice(number).office
    hub.inject("confirmarDescargaFactura", drop=True, after=True)
    with pytest.raises(FaceTransportError) as caught:
        await face.confirm_download(office, number, "RCF-1")
    assert caught.value.ambiguous and _calls(hub, "confirmarDescargaFactura") == 1
    assert (await face.status(number)).processing.code == State.REGISTERED_RCF  # it was applied


async def test_a_state_change_refused_with_500_is_not_resent(face: FaceClient, hub: FaceHub) -> None:
    number = next(n for n, inv in hub.invoices.items() if inv.state is State.REGISTERED_RCF)
    hub.inject("cambiarEstadoFactura", status=500)
    with pytest.raises(FaceFault) as caught:
        await face.change_state(StateChange(hub.invoice(number).office, number, "2400"))
    assert caught.value.ambiguous and _calls(hub, "cambiarEstadoFactura") == 1
    assert hub.invoice(number).state is State.REGISTERED_RCF


async def test_a_write_timeout_is_ambiguous(make_client: Callable[..., FaceClient], hub: FaceHub) -> None:
    number = hub.waiting()[0]
    hub.inject("confirmarDescargaFactura", status=None, delay_ms=1500)
    async with make_client(timeout=0.5) as face:
        with pytest.raises(FaceTimeout) as caught:
            await face.confirm_download(hub.invoice(number).office, number, "RCF-9")
    assert caught.value.ambiguous and _calls(hub, "confirmarDescargaFactura") <= 1


async def test_an_answer_over_the_size_cap_is_refused(
    face: FaceClient, hub: FaceHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_ANSWER_BYTES", 2048)
    with pytest.raises(FaceProtocolError, match="larger than 2048 bytes"):
        await face.download(hub.waiting()[0])
