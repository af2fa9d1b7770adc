"""Pushing states to FACe through the connector: batches, per-item refusals, uncertain writes."""

from __future__ import annotations

from datetime import date

from rcflow.connectors.base import StatePush
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.simulator import FaceHub
from rcflow.lifecycle import State


async def _confirmed(connector: FaceConnector, count: int) -> list[str]:
    ids = (await connector.pending()).ids[:count]
    for invoice_id in ids:
        assert (await connector.acknowledge(invoice_id)).hub_state == "DELIVERED"  # type: ignore[union-attr]
    return ids


def _state(hub: FaceHub, invoice_id: str) -> str:
    return hub.invoice(invoice_id.removeprefix("face:")).state.value


async def test_a_batch_with_a_refused_item_among_successes(connector: FaceConnector, hub: FaceHub) -> None:
    a, b, c, d = await _confirmed(connector, 4)
    results = await connector.push_states(
        [
            (a, StatePush(State.RECOGNISED)),
            (b, StatePush(State.PAID, payment_date=date(2026, 3, 2))),  # 1300 → 2500: forbidden
            (c, StatePush(State.REJECTED, reason_code="R1", reason="Importe erróneo")),
            (d, StatePush(State.RECEIVED)),
        ]
    )
    assert [(r.invoice_id, r.outcome, r.code) for r in results] == [
        (a, "sent", "0"), (b, "refused", "505"), (c, "sent", "0"), (d, "sent", "0"),
    ]  # fmt: skip
    assert [_state(hub, i) for i in (a, b, c, d)] == ["2400", "1300", "2600", "2100"]
    assert hub.invoice(c.removeprefix("face:")).history[-1][2] == "R1: Importe erróneo"
    [call] = hub.log.records("cambiarEstadoListadoFacturas")
    assert {r.hub_reference for r in results} == {call.tracking} != {None}  # refusals' too
    history = await connector.history(c)
    assert history[-1].state == "REJECTED" and history[-1].reject_reason == "R1: Importe erróneo"


async def test_an_invoice_s_updates_go_in_order_in_separate_calls(
    connector: FaceConnector, hub: FaceHub
) -> None:
    a, b = await _confirmed(connector, 2)
    results = await connector.push_states(
        [
            (a, StatePush(State.RECOGNISED)),
            (a, StatePush(State.PAID, payment_date=date(2026, 3, 2))),
            (b, StatePush(State.PAID)),  # refused (505): nothing after it would be sent
            (b, StatePush(State.RECOGNISED)),
        ]
    )
    assert [r.outcome for r in results] == ["sent", "sent", "refused", "uncertain"]
    assert "not sent" in (results[3].message or "")
    assert (
        _state(hub, a) == "2500"
        and hub.invoice(a.removeprefix("face:")).history[-1][2] == "Pagada el 2026-03-02"
    )
    assert _state(hub, b) == "1300"
    assert len(hub.log.records("cambiarEstadoListadoFacturas")) == 2


async def test_more_than_100_changes_take_several_calls(connector: FaceConnector, hub: FaceHub) -> None:
    hub.add_invoices(110)
    ids = (await connector.pending()).ids
    assert len(ids) >= 110
    for invoice_id in ids:
        await connector.acknowledge(invoice_id)
    results = await connector.push_states([(i, StatePush(State.RECEIVED)) for i in ids])
    assert all(r.outcome == "sent" for r in results) and len(results) == len(ids)
    sizes = [len(r.registry_numbers) for r in hub.log.records("cambiarEstadoListadoFacturas")]
    assert len(sizes) == -(-len(ids) // 100)


async def test_annotated_corrects_the_rcf_code(connector: FaceConnector, hub: FaceHub) -> None:
    (a,) = await _confirmed(connector, 1)
    [result] = await connector.push_states([(a, StatePush(State.ANNOTATED, rcf_number="RCF/2026/000042"))])
    assert result.outcome == "sent" and hub.invoice(a.removeprefix("face:")).rcf_code == "RCF/2026/000042"
    assert [s.state for s in await connector.history(a)][-1] == "ANNOTATED"
    [missing] = await connector.push_states([(a, StatePush(State.ANNOTATED))])
    assert missing.outcome == "refused" and missing.code == "local"


async def test_states_face_does_not_take_are_refused_locally(connector: FaceConnector, hub: FaceHub) -> None:
    (a,) = await _confirmed(connector, 1)
    results = await connector.push_states([(a, StatePush(State.DELIVERED)), (a, StatePush(State.CANCELLED))])
    assert [r.outcome for r in results] == ["refused", "uncertain"]
    assert hub.log.records("cambiarEstadoListadoFacturas") == []


async def test_a_500_or_a_dropped_connection_is_uncertain_and_not_resent(
    connector: FaceConnector, hub: FaceHub
) -> None:
    a, b, c = await _confirmed(connector, 3)
    hub.inject("cambiarEstadoListadoFacturas", status=500)
    [r500] = await connector.push_states([(a, StatePush(State.RECEIVED))])
    assert r500.outcome == "uncertain" and _state(hub, a) == "1300"
    hub.inject("cambiarEstadoListadoFacturas", drop=True, after=True)  # applied, answer lost
    [lost] = await connector.push_states([(b, StatePush(State.RECEIVED))])
    assert lost.outcome == "uncertain" and _state(hub, b) == "2100"
    hub.inject("cambiarCodigoRCF", drop=True)
    [dropped] = await connector.push_states([(c, StatePush(State.ANNOTATED, rcf_number="RCF/1"))])
    assert dropped.outcome == "uncertain"
    # Each write went out once: no blind retry.
    assert len(hub.log.records("cambiarEstadoListadoFacturas")) == 2
    assert len(hub.log.records("cambiarCodigoRCF")) == 1
