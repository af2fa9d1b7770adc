"""FACe behind a misbehaving front (compressing, redirecting, answering a login page, garbling,
dripping, cutting or rewriting FACe's SOAP answers): rcflow's real sync stores exactly what FACe
served or nothing, confirms only what it stored, and says why in one line.

The truth is the simulator's own state (an invoice past 1200 was confirmed) and the bytes it
serves (``assert_nothing_lost``: every confirmed invoice stored, its blob's sha256 the
simulator's document's).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import polars as pl
import pytest
from face_sync_support import (
    assert_nothing_lost,
    face_environment,
    face_settings,
    push_face,
    rows,
    store_dir,
    sync_face,
)
from typer.testing import CliRunner

from rcflow import clock
from rcflow.cli.main import app
from rcflow.connectors.efact.simulator.front import RunningFront, start_front
from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.errors import FaceTransportError
from rcflow.connectors.face.settings import FaceSettings
from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig, RunningFaceSimulator
from rcflow.connectors.face.simulator.app import SERVICE_PATH
from rcflow.connectors.face.simulator.certs import certificate_pem, write_pem
from rcflow.ingest.sync import SyncSummary
from rcflow.push.accounting import import_events
from rcflow.warehouse import Warehouse


@pytest.fixture
def hub(server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials) -> FaceHub:
    config = FaceSimConfig(seed=11, invoices=4, processed=0, cancellations=0, credit_assignments=0)
    return server.reset(FaceHub(config, identity=face_id, clients=(client_id.certificate,)))


@pytest.fixture
def front(server: RunningFaceSimulator) -> Iterator[RunningFront]:
    with start_front(server.root_url) as running:
        yield running


@pytest.fixture
def settings(
    front: RunningFront, tmp_path: Path, client_id: FaceCredentials, face_id: FaceCredentials
) -> FaceSettings:
    """rcflow pointed at the front, not at the simulator; one retry keeps deferrals quick."""
    server_cert = tmp_path / "face.pem"
    server_cert.write_bytes(certificate_pem(face_id))
    cert = write_pem(client_id, tmp_path / "platform.pem")
    return face_settings(front.root_url + SERVICE_PATH, cert, server_cert, max_retries=1)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "data" / "warehouse.duckdb"


def sync(settings: FaceSettings, warehouse: Path) -> SyncSummary:
    return asyncio.run(sync_face(settings, warehouse))


def on(operation: str, registry_number: str | None = None) -> dict[str, object]:
    """A front rule's match for one SOAP operation (of one invoice): POST, SOAPAction, body."""
    match: dict[str, object] = {"method": "POST", "header": ("soapaction", f"#{operation}\"?$")}
    if registry_number is not None:
        match["body_regex"] = f"numeroRegistro>{registry_number}<"
    return match


def reasons_for(summary: SyncSummary, registry_number: str) -> list[str]:
    return [d["reason"] for d in summary.deferred if d["invoice_id"] == f"face:{registry_number}"]


def assert_only_served_blobs(hub: FaceHub, warehouse: Path) -> None:
    """Every blob in the store is a file or annex FACe served: nothing a front made was kept."""
    served = set()
    for number in hub.invoices:
        served.add(hashlib.sha256(hub.document(number)).hexdigest())
        served.update(hashlib.sha256(body).hexdigest() for _, body in hub.annexes(number))
    blobs = {p.name for p in (store_dir(warehouse) / "sha256").rglob("*") if p.is_file()}
    assert blobs and blobs <= served, f"blobs FACe never served: {sorted(blobs - served)}"


@pytest.mark.both_event_loops  # also uvloop's (rcflow's commands)
def test_a_compressing_front_stores_the_documents_not_the_compressed_bytes(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path
) -> None:
    waiting = hub.waiting()
    front.add("gzip", **on("descargarFactura"))
    front.add("br", **on("consultarFactura"))
    front.add("deflate", **on("solicitarNuevasFacturas"))
    summary = sync(settings, warehouse)
    assert summary.ok, summary.deferred
    assert {action for _, _, action in front.log} == {"gzip", "br", "deflate"}
    assert hub.waiting() == [] and summary.invoices_acknowledged == len(waiting)
    assert summary.quarantined == 0  # compressed bytes stored as the file would not parse
    assert_nothing_lost(hub, warehouse, waiting)
    assert_only_served_blobs(hub, warehouse)


BAD_ANSWERS = [
    ("bare-gzip", "unreadable answer from FACe (a gzip-compressed body with no Content-Encoding"),
    ("encoding", "unreadable answer from FACe (content encoding x-custom cannot be decoded)"),
    ("redirect", "unreadable answer from FACe (redirected (302) to https://sso.example.invalid/login;"),
    ("html", "unreadable answer from FACe (an HTML page (text/html;"),
    ("empty", "unreadable answer from FACe (an empty body)"),
    ("truncate", "no answer from FACe (RemoteProtocolError: peer closed connection"),
    ("throttle", "FACe answered HTTP 429: too many requests (asked to wait 3600 s); an HTML page"),
    ("drip", "no answer from FACe (no complete answer in time: stalled or slower than 64 KiB/s"),
    ("rewrite", "FACe's answer failed signature verification: a signed part was altered"),
]
# The first bytes of the Facturae's base64 ("<?xml ") rewritten on the way: another document.
REWRITE = (rb"(<(?:\w+:)?factura>)PD94bWwg", rb"\1PHhtbD4g")


@pytest.mark.parametrize(("action", "reason"), BAD_ANSWERS, ids=[a for a, _ in BAD_ANSWERS])
def test_a_download_answer_that_is_not_face_s_defers_the_invoice_in_1200_then_a_clean_run_takes_it(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path, action: str, reason: str
) -> None:
    waiting = hub.waiting()
    stuck = waiting[1]
    options: dict[str, object] = {"drip": {"drip_bytes": 16, "drip_delay_s": 0.4},
                                  "rewrite": {"rewrite": REWRITE},
                                  "throttle": {"retry_after": "3600"}}.get(action, {})  # fmt: skip
    front.add(action, **on("descargarFactura", stuck), **options)
    if action == "drip":  # 16 bytes every 0.4 s: each read well within a timeout, for minutes
        settings = settings.model_copy(update={"timeout": 2.0, "max_retries": 0})
    started = time.monotonic()
    summary = sync(settings, warehouse)
    assert time.monotonic() - started < 30  # a dripping answer is cut, not waited for
    assert not summary.ok
    assert {a for _, _, a in front.log} == {action}
    [why] = reasons_for(summary, stuck)  # one reason, one line, naming what came back
    assert why.startswith("descargarFactura: ") and reason in why, why
    assert "\n" not in why and "s3cr3t-session" not in why
    assert hub.waiting() == [stuck] and hub.invoice(stuck).state.value == "1200"  # not confirmed
    assert rows(warehouse, f"select count(*) from raw.invoices where invoice_id = 'face:{stuck}'") == [(0,)]
    assert_nothing_lost(hub, warehouse, waiting)  # the others: stored as served, confirmed
    assert_only_served_blobs(hub, warehouse)
    front.clear()
    again = sync(settings, warehouse)
    assert again.ok, again.deferred
    assert hub.waiting() == [] and again.invoices_new == 1
    stored = rows(warehouse, f"select xml_sha256 from raw.invoices where invoice_id = 'face:{stuck}'")
    assert stored == [(hashlib.sha256(hub.document(stuck)).hexdigest(),)]
    assert_nothing_lost(hub, warehouse, waiting)
    assert_only_served_blobs(hub, warehouse)


def test_a_login_page_for_every_call_fails_rcflow_sync_in_one_line_and_stores_nothing(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The listing itself is a login page: the run fails as a hub failure (exit 3), recorded."""
    offices = {hub.invoice(n).office for n in hub.waiting()}
    assert settings.cert is not None and settings.server_cert is not None
    face_environment(monkeypatch, settings.url, (settings.cert, settings.server_cert), warehouse, offices)
    front.add("html", method="POST")
    result = CliRunner().invoke(app, ["sync", "--hub", "face"])
    assert result.exit_code == 3, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("rcflow: solicitarNuevasFacturas: unreadable answer from FACe (an HTML page")
    assert len(hub.waiting()) == 4 and not hub.log.records()  # nothing reached FACe
    assert rows(warehouse, "select count(*) from raw.invoices") == [(0,)]
    assert rows(warehouse, "select kind, status from ops.runs") == [("sync", "failed")]


def test_a_429_is_retried_after_its_retry_after(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path
) -> None:
    waiting = hub.waiting()
    front.add("throttle", **on("descargarFactura", waiting[0]), times=2, retry_after="1")
    started = time.monotonic()
    summary = sync(settings.model_copy(update={"max_retries": 2}), warehouse)
    assert summary.ok, summary.deferred
    assert [a for _, _, a in front.log] == ["throttle", "throttle"]
    assert summary.retries >= 2 and time.monotonic() - started >= 2.0
    assert hub.waiting() == []
    assert_nothing_lost(hub, warehouse, waiting)


@pytest.mark.parametrize(
    ("action", "applied"),
    [("bare-gzip", True), ("html", False)],
    ids=["garbled-after-applying", "login-page-instead"],
)
def test_a_confirmation_whose_answer_is_not_face_s_is_settled_by_face_s_state(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path, action: str, applied: bool
) -> None:
    """A garbled answer to confirmarDescargaFactura may hide an applied confirmation: FACe's
    state decides (confirmed: acknowledged; still 1200: deferred, confirmed by the next run)."""
    waiting = hub.waiting()
    stuck = waiting[2]
    front.add(action, **on("confirmarDescargaFactura", stuck))
    summary = sync(settings, warehouse)
    assert [a for _, _, a in front.log] == [action]
    served = hashlib.sha256(hub.document(stuck)).hexdigest()
    stored = rows(warehouse, f"select xml_sha256 from raw.invoices where invoice_id = 'face:{stuck}'")
    assert stored == [(served,)]  # stored before any confirmation, whatever came back
    if applied:
        assert summary.ok, summary.deferred
        assert hub.waiting() == [] and summary.invoices_acknowledged == len(waiting)
    else:
        [why] = reasons_for(summary, stuck)
        assert why.startswith("confirmarDescargaFactura: unreadable answer from FACe (an HTML page")
        assert hub.waiting() == [stuck]
        front.clear()
        again = sync(settings, warehouse)
        assert again.ok and hub.waiting() == [], again.deferred
    assert_nothing_lost(hub, warehouse, waiting)
    assert_only_served_blobs(hub, warehouse)


class MislabelledGzip(httpx.AsyncBaseTransport):
    """A front that says gzip and sends bytes no gzip decoder takes (a broken compressor)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        headers = {"content-type": "text/xml; charset=utf-8", "content-encoding": "gzip"}
        return httpx.Response(response.status_code, headers=headers, content=body[: len(body) // 2])

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.both_event_loops  # also uvloop's (rcflow's commands)
async def test_an_answer_that_cannot_be_decompressed_is_a_transport_failure_not_a_crash(
    make_client: Callable[..., FaceClient], hub: FaceHub
) -> None:
    """httpx's DecodingError is not one of its transport errors: the client names it as FACe's."""
    async with make_client(transport=MislabelledGzip(), max_retries=1) as face:
        undecodable = r"^descargarFactura: no answer from FACe \(DecodingError"
        with pytest.raises(FaceTransportError, match=undecodable):
            await face.download(hub.waiting()[0])
        assert face.stats.retries == 1  # retried like any transport failure, then given up
    assert hub.waiting() and all(r.code == "0" for r in hub.log.records("descargarFactura"))


class ThrottlesOnce(httpx.AsyncBaseTransport):
    """A front that answers the first call with a 429 asking for a second, then passes every
    call on to FACe, noting when each went."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.throttled_at: float | None = None
        self.passed: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.throttled_at is None:
            self.throttled_at = time.monotonic()
            return httpx.Response(429, headers={"retry-after": "1", "content-type": "text/html"},
                                  content=b"<html><body>Too many requests</body></html>")  # fmt: skip
        self.passed.append(time.monotonic())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.both_event_loops  # also uvloop's (rcflow's commands)
async def test_a_429_holds_every_call_of_the_client_for_its_retry_after(
    make_client: Callable[..., FaceClient], hub: FaceHub
) -> None:
    """A call started while another waits out a 429 is not sent before the wait is over (it
    would only be throttled too), and both succeed after it."""
    first, second = hub.waiting()[:2]
    front = ThrottlesOnce()
    async with make_client(transport=front, max_retries=2) as face:
        throttled = asyncio.create_task(face.status(first))
        await asyncio.sleep(0.3)
        later = await face.status(second)
        assert (await throttled).registry_number == first and later.registry_number == second
    assert front.throttled_at is not None and len(front.passed) == 2
    assert min(front.passed) >= front.throttled_at + 0.95


@pytest.mark.parametrize(
    ("action", "applied"),
    [("bare-gzip", True), ("html", False)],
    ids=["garbled-after-applying", "login-page-instead"],
)
def test_a_state_change_whose_answer_is_not_face_s_is_applied_once(
    hub: FaceHub, front: RunningFront, settings: FaceSettings, warehouse: Path, tmp_path: Path,
    action: str, applied: bool,
) -> None:  # fmt: skip
    """The push re-reads FACe's state after an answer it cannot read: applied, it is not sent
    again; not applied, it is sent once more; the audit keeps both calls as they were."""
    number = hub.waiting()[0]
    assert sync(settings, warehouse).ok
    events = tmp_path / "events.csv"
    pl.DataFrame(
        [(f"face:{number}", "RECOGNISED", str(clock.today() - timedelta(days=1)), None, None, None)],
        schema=["invoice_id", "state", "date", "rcf_number", "reason_code", "reason"], orient="row",
    ).write_csv(events)  # fmt: skip
    with Warehouse(warehouse) as wh:
        assert import_events(wh, events).new_events == 1
    front.add(action, **on("cambiarEstadoListadoFacturas"), times=1)
    summary = asyncio.run(push_face(settings, warehouse))
    assert summary.ok, summary.as_dict()
    assert [a for _, _, a in front.log] == [action]
    assert hub.invoice(number).state.value == "2400"
    [done] = [r for r in hub.log.records("cambiarEstadoListadoFacturas") if r.code == "0"]  # once
    assert (summary.confirmed_already_on_hub, summary.pushed) == ((1, 0) if applied else (0, 1))
    audit = rows(warehouse, "select http_status, error_message, hub_reference from ops.push_audit")
    unreadable = "cambiarEstadoListadoFacturas: unreadable answer from FACe ("
    garbled = [reference for _, message, reference in audit if message and message.startswith(unreadable)]
    assert garbled == [None]  # one such call, and no answer read: no reference
    if applied:
        assert len(audit) == 1
    else:
        assert len(audit) == 2 and (200, None, done.tracking) in audit
