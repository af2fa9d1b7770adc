"""Drain, decide, send — against the FACe simulator over loopback, into a real DuckDB file.

The simulator's own state (its invoices' cancellation and processing codes, its request log) is
the judge of what reached the hub and how many times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cancel_support import PREFIX, open_invoice, requested

from rcflow.connectors.base import PushResult
from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.simulator import FaceHub
from rcflow.ingest.cancellations import drain_cancellations
from rcflow.push.cancellations import CancellationSend, NoCancellations, run_send, send_decisions
from rcflow.quality.suites.invoice_states import allowed_state_codes
from rcflow.warehouse import Warehouse
from rcflow.warehouse.cancellations import (
    DecisionRefused,
    decide,
    due_decisions,
    mark_sending,
    open_requests,
)

ANSWER = "gestionarSolicitudAnulacionFactura"


def _calls(hub: FaceHub, number: str) -> int:
    """Answers the hub received (each test answers one invoice; a fault before the handler is
    logged without the invoice's number)."""
    records = hub.log.records(ANSWER)
    assert all(number in r.registry_numbers for r in records if r.registry_numbers)
    return len(records)


def _decision(wh: Warehouse, invoice_id: str) -> tuple:
    return wh.fetch(
        "select decision, status, attempts, hub_code, via from ops.cancellation_decisions"
        " where invoice_id = ? order by decision_seq desc limit 1",
        [invoice_id],
    )[0]


async def test_drain_lists_the_hubs_requests_with_their_invoices(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    waiting = requested(hub)
    assert len(waiting) == 2
    with Warehouse(warehouse_path) as wh:
        summary = await drain_cancellations(face, wh)
        rows = open_requests(wh.con)
    assert sorted(summary.open_requests) == [PREFIX + n for n in waiting]
    assert [r["invoice_id"] for r in sorted(rows, key=lambda r: r["invoice_id"])] == [
        PREFIX + n for n in waiting
    ]
    for row in rows:
        inv = hub.invoice(row["registry_number"])
        assert row["requested_reason"] == inv.cancellation_reason
        assert row["amount_cents"] == inv.doc.amount_cents
        assert (row["decision_status"], row["is_decidable"], row["is_due"]) == ("none", True, False)
        assert row["source_hub"] == "face"


async def test_accept_then_send_cancels_the_invoice_on_the_hub_and_in_the_warehouse(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = open_invoice(hub)
    hub.request_cancellation(number, "Factura emitida por error")
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "accept", "  Duplicada: anul·lada a petició del proveïdor ", decided_by="ana")
        assert [d.invoice_id for d in due_decisions(wh)] == [invoice_id]
        summary = await run_send(face, wh)
        assert summary.ok and [s["invoice_id"] for s in summary.sent] == [invoice_id]
        assert _decision(wh, invoice_id) == ("accept", "sent", 1, summary.sent[0]["code"], "command")
        [call] = hub.log.records(ANSWER)  # FACe's codigoSeguimiento of the answer, kept for its support
        assert wh.fetch("select hub_reference from main.cancellation_decisions where invoice_id = ?",
                        [invoice_id]) == [(call.tracking,)] != [(None,)]  # fmt: skip
        assert wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [invoice_id]) == [
            ("CANCELLED",)
        ]
        cancelled = wh.fetch(
            "select state || ':' || state_code, seq = (select max(seq) from raw.invoice_states"
            " where invoice_id = ?), source_hub from raw.invoice_states where invoice_id = ?"
            " and state = 'CANCELLED'",
            [invoice_id, invoice_id],
        )
        assert cancelled == [("CANCELLED:3100", True, "face")]
        assert cancelled[0][0] in allowed_state_codes()  # the history check takes it as it is
        assert wh.fetch(
            "select hub_state from raw.cancellation_requests where invoice_id = ?", [invoice_id]
        ) == [("accepted",)]
        assert invoice_id not in {r["invoice_id"] for r in open_requests(wh.con)}
        assert wh.fetch("select kind, status from ops.runs where run_id = ?", [summary.run_id]) == [
            ("cancellations", "ok")
        ]
        again = await run_send(face, wh)  # nothing is due: nothing is sent twice
        assert again.due == 0
    inv = hub.invoice(number)
    assert (inv.cancellation, inv.state) == (CancellationState.ACCEPTED, State.CANCELLED)
    assert inv.history[-1][2] == "Duplicada: anul·lada a petició del proveïdor"
    assert _calls(hub, number) == 1


async def test_reject_keeps_the_invoice_and_answers_the_request(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = requested(hub)[0]
    before = hub.invoice(number).state
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "reject", "La factura ja està conformada", decided_by="ana")
        summary = await run_send(face, wh)
        assert [s["invoice_id"] for s in summary.sent] == [invoice_id]
        assert (
            wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [invoice_id])[0][0]
            != "CANCELLED"
        )
        assert wh.fetch(
            "select hub_state from raw.cancellation_requests where invoice_id = ?", [invoice_id]
        ) == [("rejected",)]
        with pytest.raises(DecisionRefused, match="no open cancellation request"):
            decide(wh, invoice_id, "accept", "changed my mind", decided_by="ana")
        # the next drain no longer lists it, and closes nothing else
        await drain_cancellations(face, wh)
        assert invoice_id not in {r["invoice_id"] for r in open_requests(wh.con)}
    inv = hub.invoice(number)
    assert (inv.cancellation, inv.state) == (CancellationState.REJECTED, before)


async def test_a_refused_answer_is_kept_and_can_be_decided_again(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "accept", "Duplicada", decided_by="ana")
        hub.inject(ANSWER, status=200, code="512", times=1)  # "no tiene solicitada la anulación"
        summary = await run_send(face, wh)
        assert not summary.ok
        assert summary.refused == [
            {
                "invoice_id": invoice_id,
                "decision": "accept",
                "code": "512",
                "reason": summary.refused[0]["reason"],
            }
        ]
        assert "anulación" in str(summary.refused[0]["reason"])
        assert _decision(wh, invoice_id)[:4] == ("accept", "refused", 1, "512")
        row = next(r for r in open_requests(wh.con) if r["invoice_id"] == invoice_id)
        assert (row["decision_status"], row["is_decidable"], row["is_due"]) == ("refused", True, False)
        assert (await run_send(face, wh)).due == 0  # a refused decision is never re-sent by itself
        decide(wh, invoice_id, "accept", "Duplicada (second try)", decided_by="ana")
        assert (await run_send(face, wh)).sent
        seqs = wh.fetch(
            "select decision_seq, status from ops.cancellation_decisions where invoice_id = ? order by 1",
            [invoice_id],
        )
    assert seqs == [(1, "refused"), (2, "sent")]
    assert hub.invoice(number).state is State.CANCELLED
    assert _calls(hub, number) == 2


async def test_a_real_512_from_the_hub_is_refused(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "reject", "No", decided_by="ana")
        hub.invoice(number).cancellation = CancellationState.NONE  # answered on FACe's portal meanwhile
        summary = await run_send(face, wh)
    assert [(r["invoice_id"], r["code"]) for r in summary.refused] == [(invoice_id, "512")]


@pytest.mark.parametrize("fault", [{"status": 500, "after": True}, {"drop": True, "after": True}])
async def test_an_answer_lost_after_it_applied_is_sent_once_and_confirmed(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path, fault: dict
) -> None:
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "accept", "Duplicada", decided_by="ana")
        hub.inject(ANSWER, times=1, **fault)
        summary = await run_send(face, wh)
        assert summary.ok, summary
        assert _decision(wh, invoice_id)[:2] == ("accept", "sent")
        assert wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [invoice_id]) == [
            ("CANCELLED",)
        ]
    assert _calls(hub, number) == 1
    assert hub.invoice(number).state is State.CANCELLED


async def test_an_answer_that_failed_before_the_hub_stays_uncertain_then_goes_once(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "reject", "No procedeix", decided_by="ana")
        hub.inject(ANSWER, status=500, times=1)  # before: never applied
        first = await run_send(face, wh)
        assert [u["invoice_id"] for u in first.uncertain] == [invoice_id]
        assert _decision(wh, invoice_id)[:3] == ("reject", "uncertain", 1)
        with pytest.raises(DecisionRefused, match="being sent"):
            decide(wh, invoice_id, "accept", "other", decided_by="bob")
        second = await run_send(face, wh)  # re-reads: still requested on the hub, so sends it
        assert [s["invoice_id"] for s in second.sent] == [invoice_id]
        assert _decision(wh, invoice_id)[:3] == ("reject", "sent", 2)
    assert _calls(hub, number) == 2  # the 500 (never applied) and the one that applied
    assert hub.invoice(number).cancellation is CancellationState.REJECTED


async def test_an_interrupted_send_is_resolved_from_the_hub_not_resent(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    """The intent was recorded and the call applied, then the process died before the outcome."""
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "accept", "Duplicada", decided_by="ana")
        mark_sending(wh, due_decisions(wh), "cancellations-dead")
        await face.answer_cancellation(invoice_id, accept=True, comment="Duplicada")  # the lost call
        summary = CancellationSend(run_id="cancellations-next")
        await send_decisions(face, wh, summary)
        assert summary.confirmed_already_on_hub == [invoice_id] and not summary.sent
        assert _decision(wh, invoice_id)[:3] == ("accept", "sent", 1)  # the lost call
        assert wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [invoice_id]) == [
            ("CANCELLED",)
        ]
    assert _calls(hub, number) == 1


async def test_a_lost_answer_then_a_drain_still_settles_from_the_hub(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    """The hub stops listing a request whose answer applied but was lost; the drain that sees it
    gone before the next send must not strand the decision."""
    first, second = requested(hub)
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, PREFIX + first, "accept", "Duplicada", decided_by="ana")
        decide(wh, PREFIX + second, "reject", "No", decided_by="ana")
        hub.inject(ANSWER, drop=True, after=True, times=1)  # the first answer applies, then is lost
        hub.inject("consultarFactura", status=500, times=None)  # and the history cannot be re-read
        first_send = await run_send(face, wh)
        assert sorted(u["invoice_id"] for u in first_send.uncertain) == [PREFIX + first]
        hub.engine.clear()
        await drain_cancellations(face, wh)  # the hub no longer lists either request
        states = dict(wh.fetch("select invoice_id, hub_state from raw.cancellation_requests"))
        assert states == {PREFIX + first: "closed", PREFIX + second: "rejected"}
        assert [r["invoice_id"] for r in open_requests(wh.con)] == [PREFIX + first]
        second_send = await run_send(face, wh)
        assert second_send.confirmed_already_on_hub == [PREFIX + first]
        assert open_requests(wh.con) == []
        assert wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [PREFIX + first]) == [
            ("CANCELLED",)
        ]
    assert len(hub.log.records(ANSWER)) == 2


async def test_a_pending_decision_can_be_replaced_before_it_is_sent(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    number = requested(hub)[0]
    invoice_id = PREFIX + number
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "accept", "first thought", decided_by="ana")
        decide(wh, invoice_id, "reject", "second thought", decided_by="bob")
        rows = wh.fetch(
            "select decision, comment, decided_by, status from ops.cancellation_decisions"
            " order by decision_seq"
        )
        with pytest.raises(DecisionRefused, match="reason is required"):
            decide(wh, invoice_id, "reject", "   ", decided_by="bob")
        with pytest.raises(DecisionRefused, match="no cancellation|no open"):
            decide(wh, PREFIX + "209900000000", "reject", "x", decided_by="bob")
    assert rows == [
        ("accept", "first thought", "ana", "replaced"),
        ("reject", "second thought", "bob", "pending"),
    ]


async def test_credit_assignments_are_stored_for_open_invoices(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    with Warehouse(warehouse_path) as wh:
        summary = await drain_cancellations(face, wh, credit_limit=100)
        open_ids = wh.fetch(
            "select invoice_id from raw.invoices where hub_state not in ('PAID', 'REJECTED', 'CANCELLED')"
        )
        stored = dict(
            wh.fetch("select invoice_id, state_code from raw.credit_assignments where state_code is not null")
        )
        asked = wh.fetch("select count(*), min(source_hub) from raw.credit_assignments")[0]
    expected = {
        PREFIX + n: i.credit[0] for n, i in hub.invoices.items() if i.credit and (PREFIX + n,) in open_ids
    }
    assert summary.credit_assignments_asked == len(open_ids) == asked[0]
    assert asked[1] == "face"
    assert stored == expected


async def test_a_hub_without_cancellations_drains_nothing_and_cannot_send(tmp_path: Path) -> None:
    class Efact:
        source = "efact"

    with Warehouse(tmp_path / "w.duckdb") as wh:
        summary = await drain_cancellations(Efact(), wh)
        assert summary.requests == 0 and summary.credit_assignments_asked == 0
        with pytest.raises(NoCancellations, match="efact hub has no cancellation requests"):
            await send_decisions(Efact(), wh, CancellationSend(run_id="x"))


async def test_credit_assignments_are_asked_in_bounded_turns_never_asked_first(
    hub: FaceHub, warehouse_path: Path
) -> None:
    with Warehouse(warehouse_path) as wh:
        a, b, c, d, e = [
            r[0] for r in wh.fetch(
                "select invoice_id from raw.invoices where hub_state not in ('PAID', 'REJECTED')"
                " order by invoice_id limit 5"
            )
        ]  # fmt: skip

    class NoneReported:
        source = "face"
        final_states = frozenset({"PAID", "REJECTED", "CANCELLED"})

        def __init__(self) -> None:
            self.asked: list[str] = []

        async def credit_assignment(self, invoice_id: str) -> None:
            self.asked.append(invoice_id)
            if invoice_id == a:
                raise RuntimeError("FACe said 511")  # one invoice's failure stops no other

    connector = NoneReported()
    with Warehouse(warehouse_path) as wh:
        first = await drain_cancellations(connector, wh, credit_limit=3)
        assert sorted(connector.asked) == [a, b, c]
        second = await drain_cancellations(connector, wh, credit_limit=3)
        assert sorted(connector.asked[3:]) == [a, d, e]  # the failed one again, then the never asked
        stored = wh.fetch("select invoice_id, state_code from raw.credit_assignments order by 1")
    assert stored == [(b, None), (c, None), (d, None), (e, None)]
    assert [f["invoice_id"] for f in first.failures + second.failures] == [a, a]
    assert first.credit_assignments == second.credit_assignments == 0


async def test_a_send_interrupted_mid_call_is_recorded_and_the_next_one_settles_it(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path
) -> None:
    """Ctrl-C (or SIGTERM) after the hub applied the answer, before its outcome was written."""
    number = requested(hub)[0]
    invoice_id = PREFIX + number

    class Interrupted(FaceConnector):
        async def answer_cancellation(self, invoice_id: str, *, accept: bool, comment: str) -> PushResult:
            await super().answer_cancellation(invoice_id, accept=accept, comment=comment)
            raise KeyboardInterrupt

    interrupted = Interrupted(face.client, None)
    with Warehouse(warehouse_path) as wh:
        await drain_cancellations(face, wh)
        decide(wh, invoice_id, "reject", "No procedeix", decided_by="ana")
        with pytest.raises(KeyboardInterrupt):
            await run_send(interrupted, wh)
        assert wh.fetch("select status from ops.runs where kind = 'cancellations'") == [("interrupted",)]
        assert _decision(wh, invoice_id)[:3] == ("reject", "uncertain", 1)
        summary = await run_send(face, wh)
        assert summary.confirmed_already_on_hub == [invoice_id] and summary.ok
        assert _decision(wh, invoice_id)[:3] == ("reject", "sent", 1)
    assert _calls(hub, number) == 1
    assert hub.invoice(number).cancellation is CancellationState.REJECTED
