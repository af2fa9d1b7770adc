"""Downloads through a misbehaving front: the document or an error, never something else stored."""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_support import ISSUER, SECRET, client
from pydantic import SecretStr

from rcflow.connectors.efact import HubClient, HubNotDocument, HubRateLimited, HubRedirect, HubTimeout
from rcflow.connectors.efact.auth import JwtSigner
from rcflow.connectors.efact.documents import attachment_problem, facturae_problem
from rcflow.connectors.efact.simulator.front import RunningFront, start_front
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.store import BlobStore

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops


@pytest.fixture(scope="module")
def front(sim: RunningSimulator) -> Iterator[RunningFront]:
    with start_front(sim) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_front(front: RunningFront) -> Iterator[None]:
    yield
    front.clear()


def via(front: RunningFront, sim: RunningSimulator, **kwargs: object) -> HubClient:
    """A client pointed at the front (which forwards to ``sim``)."""
    kwargs.setdefault("max_retries", 3)
    return HubClient(front.base_url, ISSUER, SecretStr(SECRET), **kwargs)  # type: ignore[arg-type]


def with_attachment(sim: RunningSimulator) -> tuple[str, str, str]:
    for invoice in sim.hub.invoices.values():
        for att in invoice.attachments:
            if att.arrived and att.size and att.name.lower().endswith(".pdf"):
                return invoice.id, att.id, att.name
    raise AssertionError("no pdf attachment in the simulator")


def stored_files(store: BlobStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_compressed_answers_are_stored_decoded(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path, encoding: str
) -> None:
    invoice_id, attachment_id, name = with_attachment(sim)
    front.add(encoding)
    store = BlobStore(tmp_path)
    async with via(front, sim) as hub:
        xml = await hub.facturae(invoice_id, store)
        pdf = await hub.attachment(invoice_id, attachment_id, store, name=name)
    assert xml.blob.sha256 == hashlib.sha256(sim.hub.facturae(invoice_id)).hexdigest()
    served_pdf = sim.hub.attachment(invoice_id, attachment_id)[1].read()
    assert pdf.blob.sha256 == hashlib.sha256(served_pdf).hexdigest()
    assert (xml.media_type, pdf.media_type) == ("application/xml", "application/pdf")
    assert {a for _, _, a in front.log[-2:]} == {encoding}


async def test_a_redirect_is_an_error_naming_where_it_pointed(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path
) -> None:
    invoice_id = sim.hub.pending_ids()[0]
    front.add("redirect", method=None)
    store = BlobStore(tmp_path)
    async with via(front, sim) as hub:
        with pytest.raises(HubRedirect) as download:
            await hub.facturae(invoice_id, store)
        with pytest.raises(HubRedirect):
            await hub.invoice(invoice_id)  # JSON answers too: a redirect is never followed
    message = str(download.value)
    assert "redirected (302) to https://sso.example.invalid/login;" in message
    assert "s3cr3t-session" not in message  # the query (session data) is left out
    assert len(front.log) == 2  # not retried
    assert stored_files(store) == []


async def test_an_html_page_is_not_a_facturae_and_nothing_is_stored(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path
) -> None:
    front.add("html")
    store = BlobStore(tmp_path)
    async with via(front, sim) as hub:
        with pytest.raises(HubNotDocument, match=r"an HTML page \(text/html"):
            await hub.facturae(sim.hub.pending_ids()[0], store)
    assert stored_files(store) == []


async def test_an_html_page_for_a_pdf_attachment_is_refused(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path
) -> None:
    invoice_id, attachment_id, name = with_attachment(sim)
    front.add("html")
    async with via(front, sim) as hub:
        with pytest.raises(HubNotDocument, match=r"where the hub announced a \.pdf file"):
            await hub.attachment(invoice_id, attachment_id, BlobStore(tmp_path), name=name)


async def test_a_dripping_body_hits_the_overall_deadline(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path
) -> None:
    front.add("drip", drip_bytes=8, drip_delay_s=0.2)  # each read well inside the per-read timeout
    started = time.monotonic()
    async with via(front, sim, timeout=1.0, max_retries=0) as hub:
        with pytest.raises(HubTimeout, match="no complete answer in time"):
            await hub.facturae(sim.hub.pending_ids()[0], BlobStore(tmp_path))
    assert time.monotonic() - started < 5


async def test_429_waits_for_its_retry_after_then_succeeds(
    sim: RunningSimulator, front: RunningFront
) -> None:
    invoice_id = sim.hub.pending_ids()[0]
    front.add("throttle", method=None, times=1, retry_after="1")
    started = time.monotonic()
    async with via(front, sim) as hub:
        detail = await hub.invoice(invoice_id)
        assert detail.id == invoice_id and hub.stats.retries == 1
    assert time.monotonic() - started >= 1.0


async def test_429_asking_too_long_a_wait_gives_up_at_once(
    sim: RunningSimulator, front: RunningFront
) -> None:
    front.add("throttle", method=None, retry_after="86400")
    async with via(front, sim) as hub:
        with pytest.raises(HubRateLimited, match="asked to wait 86400 s") as info:
            await hub.invoice(sim.hub.pending_ids()[0])
    assert info.value.retry_after == 86400 and len(front.log) == 1


async def test_retries_are_debug_lines_of_rcflow_not_stamina_warnings(
    sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    sim.hub.inject("GET", r"^/ens$", status=500, times=2)
    with caplog.at_level(logging.DEBUG):
        async with client(sim) as hub:
            await hub.entities()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    retries = [r for r in caplog.records if r.getMessage().startswith("retry 1 of")]
    assert [r for r in retries if r.name == "rcflow.connectors"]


def test_the_hubs_short_secret_warns_nobody() -> None:
    signer = JwtSigner("hub_0012", SecretStr("s" * 21))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        signer.token()
    assert caught == []


@pytest.mark.parametrize(
    ("body", "media_type", "problem"),
    [
        (b"", "application/xml", "an empty body"),
        (gzip.compress(b"<Facturae/>", mtime=0), "application/xml", "gzip-compressed bytes"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html>', "application/xml", "an HTML page"),
        (b"<fe:Facturae/>", "text/html", "an HTML page (text/html"),
        (b"PK\x03\x04", "application/zip", "neither XML nor a signed Facturae container"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><fe:Facturae/>", "application/xml", None),
        (b"\x30\x82\x01\x00\x06\x09", "application/pkcs7-mime", None),  # a CMS signed container
    ],
)
def test_what_passes_for_a_facturae_file(body: bytes, media_type: str, problem: str | None) -> None:
    found = facturae_problem(media_type, body, len(body))
    assert (found is None) if problem is None else (problem in (found or ""))


def test_attachments_may_be_empty_or_html_when_announced_as_html() -> None:
    page = b"<!doctype html><html></html>"
    assert attachment_problem("annex.pdf", "application/pdf", b"", 0) is None
    assert attachment_problem("nota.html", "text/html", page, len(page)) is None
    assert attachment_problem("sense-extensio", "text/html", page, len(page)) is None
    assert "announced a .pdf" in (attachment_problem("annex.PDF", "application/pdf", page, len(page)) or "")
