"""Every receiving-side operation of the FACe client against the simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.errors import (
    FaceAlreadyConfirmed,
    FaceBusinessError,
    FaceInvoiceNotFound,
    FaceNoInvoices,
    FaceOfficeError,
    FaceRequestError,
    FaceTransitionRefused,
)
from rcflow.connectors.face.models import CancellationAnswer, StateChange
from rcflow.connectors.face.simulator import FaceHub
from rcflow.facturae.parse import parse_facturae


async def _first(face: FaceClient) -> tuple[str, str]:
    invoice = (await face.new_invoices()).invoices[0]
    return invoice.accounting_office, invoice.registry_number


async def _confirmed(face: FaceClient, hub: FaceHub) -> tuple[str, str]:
    office, number = await _first(face)
    await face.confirm_download(office, number, f"RCF-{number}")
    return office, number


async def test_new_invoices_lists_the_waiting_queue_per_office(face: FaceClient, hub: FaceHub) -> None:
    page = await face.new_invoices()
    assert [i.registry_number for i in page.invoices] == hub.waiting()
    assert not page.capped and page.tracking
    office = page.invoices[-1].accounting_office
    mine = await face.new_invoices(office)
    assert {i.accounting_office for i in mine.invoices} == {office}
    assert [i.registry_number for i in mine.invoices] == hub.waiting(office)
    first = page.invoices[0]
    assert first.managing_body and first.processing_unit and first.registered_at.tzinfo is not None


async def test_new_invoices_are_capped_at_the_page_size(face: FaceClient, hub: FaceHub) -> None:
    hub.config = hub.config.with_(page_size=5)
    page = await face.new_invoices()
    assert len(page.invoices) == 5 and page.capped is False  # capped flags FACe's real 500 only
    assert [i.registry_number for i in page.invoices] == hub.waiting()[:5]


async def test_an_unknown_office_is_411(face: FaceClient) -> None:
    with pytest.raises(FaceOfficeError, match=r"\(411\)"):
        await face.new_invoices("L99999999")


async def test_download_decodes_the_signed_facturae_and_its_annexes(face: FaceClient, hub: FaceHub) -> None:
    number = next(n for n in hub.waiting() if hub.invoice(n).doc.attachments)
    invoice = await face.download(number)
    assert invoice.document == hub.document(number)
    parsed = parse_facturae(invoice.document)
    assert parsed.is_signed and parsed.total_cents == int(invoice.amount * 100)
    assert invoice.amount == Decimal(hub.invoice(number).doc.amount_cents) / 100
    assert invoice.number == hub.invoice(number).doc.number and invoice.file_name.endswith(".xsig")
    assert len(invoice.annexes) == len(hub.invoice(number).doc.attachments)
    assert all(a.content and a.media_type and a.name for a in invoice.annexes)
    assert "content" not in repr(invoice.annexes[0]) and "document=" not in repr(invoice)


async def test_confirm_moves_to_1300_and_the_invoice_can_no_longer_be_downloaded(
    face: FaceClient, hub: FaceHub
) -> None:
    office, number = await _first(face)
    await face.download(number)
    result = await face.confirm_download(office, number, "2026/000123")
    assert result.state == "1300" and hub.invoice(number).state is State.REGISTERED_RCF
    assert await face.rcf_code(number) == "2026/000123"
    with pytest.raises(FaceAlreadyConfirmed, match=r"descargarFactura \d+: FACe refused \(502\)"):
        await face.download(number)
    assert number not in [i.registry_number for i in (await face.new_invoices()).invoices]
    with pytest.raises(FaceTransitionRefused):
        await face.confirm_download(office, number, "again")


async def test_confirm_checks_the_office_and_needs_an_rcf_number(face: FaceClient, hub: FaceHub) -> None:
    office, number = await _first(face)
    with pytest.raises(FaceNoInvoices, match=r"\(501\)"):
        await face.confirm_download("L00000000", number, "RCF-1")
    with pytest.raises(FaceRequestError, match="RCF number"):
        await face.confirm_download(office, number, " ")
    assert hub.invoice(number).state is State.REGISTERED


async def test_rcf_code_can_be_corrected(face: FaceClient, hub: FaceHub) -> None:
    _, number = await _confirmed(face, hub)
    changed = await face.change_rcf_code(number, "2026/000999")
    [logged] = hub.log.records("cambiarCodigoRCF")
    assert changed.rcf_code == "2026/000999" and changed.tracking == logged.tracking is not None
    assert await face.rcf_code(number) == "2026/000999"


async def test_state_changes_follow_the_lifecycle(face: FaceClient, hub: FaceHub) -> None:
    office, number = await _confirmed(face, hub)
    assert (await face.change_state(StateChange(office, number, "2400"))).state == "2400"
    assert (await face.change_state(StateChange(office, number, "2500", "pagada"))).state == "2500"
    status = await face.status(number)
    assert status.processing.code == "2500" and status.cancellation.code == "4100"
    with pytest.raises(FaceTransitionRefused, match=r"\(505\).*2500 => 2400"):
        await face.change_state(StateChange(office, number, "2400"))


@pytest.mark.parametrize("code", ["1200", "1300", "3100", "4300", "9999"])
async def test_forbidden_targets_are_refused_before_sending(
    face: FaceClient, hub: FaceHub, code: str
) -> None:
    office, number = await _confirmed(face, hub)
    calls = len(hub.log.records())
    with pytest.raises(FaceRequestError):
        await face.change_state(StateChange(office, number, code))
    assert len(hub.log.records()) == calls


async def test_a_rejection_needs_its_reason(face: FaceClient, hub: FaceHub) -> None:
    office, number = await _confirmed(face, hub)
    with pytest.raises(FaceRequestError, match="reason"):
        await face.change_state(StateChange(office, number, "2600"))
    result = await face.change_state(StateChange(office, number, "2600", "Importe incorrecto"))
    assert result.state == "2600"
    assert (await face.status(number)).processing.reason == "Importe incorrecto"


async def test_a_batch_reports_per_invoice_and_applies_the_good_ones(face: FaceClient, hub: FaceHub) -> None:
    office, confirmed = await _confirmed(face, hub)
    waiting = hub.waiting()[0]
    results = await face.change_states(
        [
            StateChange(office, confirmed, "2400"),
            StateChange(hub.invoice(waiting).office, waiting, "2400"),  # still in 1200: 505
            StateChange(office, "202699999999", "2400"),  # no such invoice: 511
        ]
    )
    assert [(r.registry_number, r.code) for r in results] == [
        (confirmed, "0"),
        (waiting, "505"),
        ("202699999999", "511"),
    ]
    assert hub.invoice(confirmed).state is State.RECOGNISED and hub.invoice(waiting).state is State.REGISTERED


async def test_batch_caps_are_enforced_locally_and_by_face(face: FaceClient, hub: FaceHub) -> None:
    office, number = await _confirmed(face, hub)
    with pytest.raises(FaceRequestError, match="at most 100"):
        await face.change_states([StateChange(office, number, "2400")] * 101)
    with pytest.raises(FaceRequestError, match="at most 500"):
        await face.statuses([number] * 501)
    hub.config = hub.config.with_(batch_size=2)
    with pytest.raises(FaceBusinessError, match=r"\(509\)"):
        await face.change_states([StateChange(office, number, "2400")] * 3)


async def test_statuses_answer_each_invoice(face: FaceClient, hub: FaceHub) -> None:
    numbers = list(hub.invoices)[:3] + ["404"]
    results = await face.statuses(numbers)
    assert [r.registry_number for r in results] == numbers
    assert [r.ok for r in results] == [True, True, True, False]
    assert results[0].status.processing.code == hub.invoice(numbers[0]).state.value
    with pytest.raises(FaceInvoiceNotFound, match=r"consultarFactura 404: FACe refused \(511\)"):
        await face.status("404")


async def test_state_table_and_dir3_units(face: FaceClient, hub: FaceHub) -> None:
    states = {s.code: s for s in await face.states()}
    assert set(states) == {s.value for s in State} | {s.value for s in CancellationState}
    assert (
        states["2400"].name == "Contabilizada la obligación reconocida" and states["4200"].flow == "anulación"
    )
    units = await face.units()
    assert {(u.accounting_office.code, u.managing_body.code, u.processing_unit.code) for u in units} == set(
        hub.offices
    )
    assert all(u.accounting_office.name for u in units)


async def test_cancellation_requests_arrive_during_a_run_and_are_answered(
    face: FaceClient, hub: FaceHub
) -> None:
    before = await face.new_cancellations()
    assert len(before.requests) == 2 and all(r.reason for r in before.requests)
    office, number = await _confirmed(face, hub)
    hub.request_cancellation(number, "Factura duplicada")  # the supplier asks while we run
    requests = {r.registry_number: r for r in (await face.new_cancellations()).requests}
    assert requests[number].reason == "Factura duplicada" and requests[number].accounting_office == office
    accepted = await face.answer_cancellation(CancellationAnswer(office, number, True, "De acuerdo"))
    assert accepted.state == "4300" and hub.invoice(number).state is State.CANCELLED
    status = await face.status(number)
    assert (status.processing.code, status.cancellation.code) == ("3100", "4300")
    first, second = before.requests
    with pytest.raises(FaceRequestError, match="comment"):
        await face.answer_cancellation(
            CancellationAnswer(first.accounting_office, first.registry_number, False)
        )
    results = await face.answer_cancellations(
        [
            CancellationAnswer(
                first.accounting_office, first.registry_number, False, "La factura es correcta"
            ),
            CancellationAnswer(office, number, True, "otra vez"),  # already answered: 512
        ]
    )
    assert [r.code for r in results] == ["0", "512"] and results[0].state == "4400"
    remaining = [r.registry_number for r in (await face.new_cancellations()).requests]
    assert remaining == [second.registry_number]


async def test_credit_assignments_are_listed_and_managed(face: FaceClient, hub: FaceHub) -> None:
    assigned = [n for n, inv in hub.invoices.items() if inv.credit]
    credit = await face.credit_assignment(assigned[0])
    assert credit.state == "6200" and credit.comment and credit.tracking
    none = await face.credit_assignment(hub.waiting()[0])
    assert none.state is None
    managed = await face.manage_credit_assignment(assigned[0], "6300", "Tomada razón")
    assert (managed.state, hub.invoice(assigned[0]).credit) == ("6300", ("6300", "Tomada razón"))


async def test_every_call_is_signed_with_our_certificate(
    face: FaceClient, hub: FaceHub, make_client: Callable[..., FaceClient]
) -> None:
    await face.states()
    await face.units()
    assert {r.certificate for r in hub.log.records()} == {"CN=rcflow platform (tests),O=rcflow tests,C=ES"}
    assert face.stats.calls == 2 and face.stats.sign_cpu > 0 and face.stats.verify_cpu > 0


async def test_an_empty_annex_is_kept_as_an_empty_file(face: FaceClient, hub: FaceHub) -> None:
    number = next(n for n in hub.waiting() if hub.invoice(n).doc.attachments)
    hub.invoice(number).doc.attachments[0].size = 0
    invoice = await face.download(number)
    assert invoice.annexes[0].content == b"" and invoice.annexes[0].name


async def test_a_download_never_confirmed_stays_listed_and_downloads_the_same_bytes(
    make_client: Callable[..., FaceClient],
    hub: FaceHub,
) -> None:
    """What store-then-confirm relies on: until confirmarDescargaFactura, FACe keeps offering it."""
    async with make_client() as first:
        office, number = await _first(first)
        before = await first.download(number)
    async with make_client() as second:  # a new run after a crash between download and confirm
        assert number in [i.registry_number for i in (await second.new_invoices(office)).invoices]
        again = await second.download(number)
    assert (again.document, [a.content for a in again.annexes]) == (
        before.document,
        [a.content for a in before.annexes],
    )
