"""The FACe connector against the simulator on loopback: listing, bundle, confirmation, states."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from lxml import etree

from rcflow.connectors.base import (
    Acknowledged,
    FetchFailure,
    HandlesCancellations,
    InvoiceBundle,
    LateAttachment,
    PushesInBatches,
    ReportsCreditAssignments,
    StatePush,
)
from rcflow.connectors.face.connector import FaceConnector, parse_signed_facturae
from rcflow.connectors.face.errors import FaceOfficeError
from rcflow.connectors.face.records import provisional_rcf
from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig
from rcflow.facturae import FacturaeDocument
from rcflow.lifecycle import State

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _calls(hub: FaceHub, operation: str) -> int:
    return len(hub.log.records(operation))


async def _bundle(connector: FaceConnector, invoice_id: str) -> InvoiceBundle:
    got = await connector.bundle(invoice_id, NOW)
    assert isinstance(got, InvoiceBundle), got
    return got


async def test_it_offers_the_optional_capabilities(connector: FaceConnector) -> None:
    assert connector.source == "face"
    assert connector.final_states == {"PAID", "REJECTED", "CANCELLED"}
    assert isinstance(connector, PushesInBatches)
    assert isinstance(connector, HandlesCancellations)
    assert isinstance(connector, ReportsCreditAssignments)


async def test_pending_lists_every_office_with_namespaced_ids(connector: FaceConnector, hub: FaceHub) -> None:
    page = await connector.pending()
    assert sorted(page.ids) == sorted(f"face:{n}" for n in hub.waiting()) and not page.more
    # No office configured: the offices come from consultarUnidades, one listing call each.
    offices = {oc for oc, _, _ in hub.offices}
    assert _calls(hub, "consultarUnidades") == 1
    assert _calls(hub, "solicitarNuevasFacturas") == len(offices)
    one = next(iter({hub.invoice(n).office for n in hub.waiting()}))
    only = await connector.pending(office=one)
    assert sorted(only.ids) == sorted(f"face:{n}" for n in hub.waiting(one))


async def test_pending_reads_only_the_configured_offices(
    make_connector: Callable[..., FaceConnector], hub: FaceHub
) -> None:
    office = hub.invoice(hub.waiting()[0]).office
    connector = make_connector(offices=(office.lower(),))
    try:
        page = await connector.pending()
    finally:
        await connector.aclose()
    assert sorted(page.ids) == sorted(f"face:{n}" for n in hub.waiting(office))
    assert _calls(hub, "consultarUnidades") == 0 and _calls(hub, "solicitarNuevasFacturas") == 1


async def test_the_500_cap_means_more(make_connector: Callable[..., FaceConnector], hub: FaceHub) -> None:
    office = hub.invoice(hub.waiting()[0]).office
    hub.config = hub.config.with_(page_size=500)
    while len(hub.waiting(office)) <= 500:
        hub.add_invoices(300)
    connector = make_connector(offices=(office,))
    try:
        page = await connector.pending()
    finally:
        await connector.aclose()
    assert len(page.ids) == 500 and page.more


async def test_a_bundle_stores_the_signed_file_and_every_annex(
    connector: FaceConnector, hub: FaceHub
) -> None:
    page = await connector.pending()
    with_annexes = [i for i in page.ids if hub.annexes(i.removeprefix("face:"))]
    invoice_id = with_annexes[0]
    number = invoice_id.removeprefix("face:")
    bundle = await _bundle(connector, invoice_id)
    store = connector.store
    assert bundle.xml_sha256 == hashlib.sha256(hub.document(number)).hexdigest()
    assert store.get(bundle.xml_sha256) == hub.document(number)
    served = hub.annexes(number)
    assert [(a.name, a.sha256, a.size) for a in bundle.attachments] == [
        (name, hashlib.sha256(body).hexdigest(), len(body)) for name, body in served
    ]
    assert [a.attachment_id for a in bundle.attachments] == [
        f"{invoice_id}:{k}" for k in range(1, len(served) + 1)
    ]
    assert all(store.get(a.sha256) == body for a, (_, body) in zip(bundle.attachments, served, strict=True))
    # Non-durable writes: the caller's store.sync() flushes them.
    assert store._unsynced
    store.sync()
    assert not store._unsynced
    # The parsed Facturae travels with the bundle; the record mixes listing, download and Facturae.
    doc = bundle.facturae
    assert isinstance(doc, FacturaeDocument) and doc.is_signed
    inv = bundle.invoice
    assert inv is not None
    face = hub.invoice(number)
    assert inv.invoice_id == invoice_id and inv.registry_number == number == inv.face_registry_number
    assert inv.accounting_office == face.office and inv.managing_body == face.doc.office.managing
    assert inv.processing_unit == face.doc.office.processing
    assert inv.invoice_number == face.doc.number and inv.amount_cents == face.doc.amount_cents
    assert inv.supplier_nif == face.doc.supplier.tax_id and inv.supplier_name == doc.seller.name
    assert inv.entity_nif == doc.buyer.tax_id and inv.entity_name == doc.buyer.name
    assert inv.issue_date == doc.issue_date and inv.registry_at is not None
    assert inv.hub_state == "REGISTERED" and inv.rcf_number is None
    raw = json.loads(inv.raw_json)
    assert set(raw) == {"solicitarNuevasFacturas", "descargarFactura", "consultarFactura"}
    assert "factura" not in raw["descargarFactura"] and len(inv.raw_json) < 4000  # never the base64
    assert [a["sha256"] for a in raw["descargarFactura"]["anexos"]] == [a.sha256 for a in bundle.attachments]
    assert [(s.state, s.state_code, s.state_at) for s in bundle.states or []] == [
        ("REGISTERED", "1200", inv.registry_at)
    ]
    assert [e.entity_nif for e in await connector.entities()] == [doc.buyer.tax_id]


async def test_a_bundle_that_cannot_be_fetched_is_a_failure_and_stays_downloadable(
    connector: FaceConnector, hub: FaceHub
) -> None:
    number = hub.waiting()[0]
    hub.inject("descargarFactura", status=500, times=None)
    failed = await connector.bundle(f"face:{number}", NOW)
    assert isinstance(failed, FetchFailure) and "descargarFactura" in failed.reason
    assert number in hub.waiting()
    assert isinstance(await connector.bundle("efact:123", NOW), FetchFailure)
    # Another hub's id is never sent to FACe, where a bare number could name another invoice.
    before = len(hub.log.records())
    assert isinstance(await connector.bundle(number, NOW), FetchFailure)
    assert isinstance(await connector.refresh(number), FetchFailure)
    assert isinstance(await connector.acknowledge(number), FetchFailure)
    [push] = await connector.push_states([(number, StatePush(State.RECEIVED))])
    assert push.outcome == "refused" and len(hub.log.records()) == before


async def test_confirmation_sends_the_provisional_rcf_code(connector: FaceConnector, hub: FaceHub) -> None:
    invoice_id = (await connector.pending()).ids[0]
    number = invoice_id.removeprefix("face:")
    await _bundle(connector, invoice_id)
    ack = await connector.acknowledge(invoice_id)
    assert ack == Acknowledged(invoice_id, "DELIVERED", None, rcf_number=f"RCFLOW-{number}")
    assert hub.invoice(number).state.value == "1300" and hub.invoice(number).rcf_code == provisional_rcf(
        number
    )
    # Confirmed: FACe refuses the download now (502), and the connector says so.
    again = await connector.bundle(invoice_id, NOW)
    assert isinstance(again, FetchFailure) and "(502)" in again.reason


async def test_a_reconfirmation_after_a_lost_answer_counts_as_acknowledged(
    connector: FaceConnector, hub: FaceHub
) -> None:
    page = await connector.pending()
    first, second = page.ids[:2]
    # The confirmation is applied, its answer lost: FACe's state decides at once.
    hub.inject("confirmarDescargaFactura", drop=True, after=True)
    lost = await connector.acknowledge(first)
    assert isinstance(lost, Acknowledged) and lost.hub_state == "DELIVERED"
    # A second confirmation of a confirmed invoice (FACe answers 505): acknowledged, once checked.
    again = await connector.acknowledge(first)
    assert isinstance(again, Acknowledged) and again.rcf_number == provisional_rcf(
        first.removeprefix("face:")
    )
    assert [r.code for r in hub.log.records("confirmarDescargaFactura")][-1] == "505"
    # Refused before being applied (a 500): not acknowledged, still downloadable.
    hub.inject("confirmarDescargaFactura", status=500)
    refused = await connector.acknowledge(second)
    assert isinstance(refused, FetchFailure)
    assert second.removeprefix("face:") in hub.waiting()
    hub.inject("confirmarDescargaFactura", drop=True)  # dropped before FACe applied it
    assert isinstance(await connector.acknowledge(second), FetchFailure)
    assert second.removeprefix("face:") in hub.waiting()


async def test_an_invoice_of_an_unknown_office_is_not_confirmed(
    make_connector: Callable[..., FaceConnector], hub: FaceHub
) -> None:
    number = hub.waiting()[0]
    connector = make_connector()  # nothing listed, no office configured, no lookup
    try:
        failed = await connector.acknowledge(f"face:{number}")
    finally:
        await connector.aclose()
    assert isinstance(failed, FetchFailure) and "office" in failed.reason
    looked_up = make_connector(office_of={f"face:{number}": hub.invoice(number).office}.get)
    try:
        assert isinstance(await looked_up.acknowledge(f"face:{number}"), Acknowledged)
    finally:
        await looked_up.aclose()


@pytest.mark.parametrize(
    ("code", "rcf", "state"),
    [
        ("1300", None, "DELIVERED"),
        ("1300", "RCF/2026/000123", "ANNOTATED"),
        ("1400", None, "ANNOTATED"),
        ("2100", None, "RECEIVED"),
        ("2300", None, "ACCEPTED"),
        ("2400", None, "RECOGNISED"),
        ("2500", None, "PAID"),
        ("2600", None, "REJECTED"),
        ("3100", None, "CANCELLED"),
    ],
)
async def test_face_codes_map_to_lifecycle_names(
    connector: FaceConnector, hub: FaceHub, code: str, rcf: str | None, state: str
) -> None:
    invoice_id = (await connector.pending()).ids[0]
    number = invoice_id.removeprefix("face:")
    await connector.acknowledge(invoice_id)
    if rcf:
        hub.invoice(number).rcf_code = rcf
    if code != "1300":
        hub.force_state(number, code)
    history = await connector.history(invoice_id)
    # FACe shows the current state; the RCF code it holds shows the 1300 the invoice went through.
    passed = [] if code == "1300" else [("DELIVERED", "1300")]
    assert [(s.state, s.state_code) for s in history] == [("REGISTERED", "1200"), *passed, (state, code)]
    assert history[0].state_at is not None  # the registry date, from the listing
    refreshed = await connector.refresh(invoice_id)
    assert not isinstance(refreshed, FetchFailure)
    record, states = refreshed
    assert record.hub_state == state and states == history
    if code == "1300":
        assert record.rcf_number == (rcf or provisional_rcf(number))


async def test_a_rejection_carries_its_reason(connector: FaceConnector, hub: FaceHub) -> None:
    rejected = next(n for n, i in hub.invoices.items() if i.state.value == "2600")
    history = await connector.history(f"face:{rejected}")
    # Not listed by this connector: no registry date, so FACe's current state only.
    code = hub.invoice(rejected).rcf_code
    assert [(s.state, s.rcf_number, s.reject_reason) for s in history] == [
        ("ANNOTATED", code, None),
        ("REJECTED", code, "Factura duplicada"),
    ]


async def test_cancellation_requests_and_their_answers(connector: FaceConnector, hub: FaceHub) -> None:
    requests = await connector.cancellation_requests()
    pending = {n for n, i in hub.invoices.items() if i.cancellation.value == "4200"}
    assert {r.invoice_id for r in requests} == {f"face:{n}" for n in pending} and len(requests) == 2
    assert all(r.state == "requested" and r.reason and r.requested_at for r in requests)
    assert [r.requested_at for r in requests] == sorted(r.requested_at for r in requests)  # type: ignore[type-var]
    accept, reject = requests
    sent = await connector.answer_cancellation(accept.invoice_id, accept=True, comment="Aceptada")
    assert sent.outcome == "sent"
    assert [s.state for s in await connector.history(accept.invoice_id)][-1] == "CANCELLED"
    assert (
        await connector.answer_cancellation(reject.invoice_id, accept=False, comment="")
    ).outcome == "refused"
    no = await connector.answer_cancellation(reject.invoice_id, accept=False, comment="Ya contabilizada")
    assert (
        no.outcome == "sent"
        and hub.invoice(reject.invoice_id.removeprefix("face:")).cancellation.value == "4400"
    )
    twice = await connector.answer_cancellation(reject.invoice_id, accept=True, comment="")
    assert twice.outcome == "refused" and twice.code == "512"
    assert await connector.cancellation_requests() == []


async def test_credit_assignments(connector: FaceConnector, hub: FaceHub) -> None:
    with_credit = [n for n, i in hub.invoices.items() if i.credit]
    found = await connector.credit_assignment(f"face:{with_credit[0]}")
    assert found is not None and found.state_code == "6200" and found.invoice_id == f"face:{with_credit[0]}"
    assert json.loads(found.raw_json)["estado"] == "6200"
    without = next(n for n, i in hub.invoices.items() if not i.credit)
    assert await connector.credit_assignment(f"face:{without}") is None


async def test_no_late_attachments(connector: FaceConnector, hub: FaceHub) -> None:
    page = await connector.late_attachments()
    assert page.items == [] and not page.more
    assert isinstance(
        await connector.fetch_late_attachment(LateAttachment("a", "face:1", None)), FetchFailure
    )
    assert isinstance(await connector.release_late_attachment("a"), FetchFailure)
    assert len(hub.log.records()) == 0  # none of it asks FACe


def test_an_enveloping_xades_signature_is_unwrapped_for_parsing() -> None:
    hub = FaceHub(FaceSimConfig(seed=3, invoices=1, processed=0))
    facturae = hub.document(hub.waiting()[0])
    ds = "http://www.w3.org/2000/09/xmldsig#"
    signature = etree.Element(f"{{{ds}}}Signature", nsmap={"ds": ds})
    etree.SubElement(signature, f"{{{ds}}}SignedInfo")
    etree.SubElement(signature, f"{{{ds}}}Object").append(etree.fromstring(facturae))
    enveloping = etree.tostring(signature, xml_declaration=True, encoding="UTF-8")
    parsed = parse_signed_facturae(enveloping)
    assert isinstance(parsed, FacturaeDocument)
    assert parsed.invoice_number == parse_signed_facturae(facturae).invoice_number  # type: ignore[union-attr]


async def test_a_cancellation_answer_finds_its_office_among_the_pending_requests(
    make_connector: Callable[..., FaceConnector], hub: FaceHub
) -> None:
    offices = sorted({oc for oc, _, _ in hub.offices})
    pending = next(n for n, i in hub.invoices.items() if i.cancellation.value == "4200")
    connector = make_connector(offices=tuple(offices))  # a later process: nothing listed yet
    try:
        answer = await connector.answer_cancellation(f"face:{pending}", accept=False, comment="Ya pagada")
    finally:
        await connector.aclose()
    assert answer.outcome == "sent" and hub.invoice(pending).cancellation.value == "4400"


async def test_an_unknown_office_fails_the_listing_with_one_line(
    make_connector: Callable[..., FaceConnector], hub: FaceHub
) -> None:
    connector = make_connector(offices=("L99999999",))
    try:
        with pytest.raises(FaceOfficeError, match=r"^solicitarNuevasFacturas: FACe refused \(411\)"):
            await connector.pending()
    finally:
        await connector.aclose()


async def test_a_confirmation_applied_behind_a_500_counts_as_acknowledged(
    connector: FaceConnector, hub: FaceHub
) -> None:
    invoice_id = (await connector.pending()).ids[0]
    hub.inject("confirmarDescargaFactura", status=500, after=True)  # applied, then a 500
    ack = await connector.acknowledge(invoice_id)
    assert isinstance(ack, Acknowledged) and ack.hub_state == "DELIVERED"
    assert len(hub.log.records("confirmarDescargaFactura")) == 1  # not sent again
