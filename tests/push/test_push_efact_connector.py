"""eFACT's ``push_states`` over the loopback simulator: each core ``StatePush`` becomes one PATCH,
and each answer the core's ``PushResult`` (sent, refused with the hub's code, uncertain)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from rcflow.config import load_settings
from rcflow.connectors.base import PushResult, StatePush
from rcflow.connectors.efact.client import HubClient
from rcflow.connectors.efact.connector import EfactConnector
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import RunningSimulator, start_simulator
from rcflow.lifecycle import State

ISSUER = "hub_push_states"
SECRET = "push-states-secret-0123456789-abcdefgh"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningSimulator]:
    config = SimConfig(seed=11, invoices=12, backfill=12, entities=1, today=date(2025, 11, 20),
                       issuers={ISSUER: SECRET}, large_attachment_rate=0.0)  # fmt: skip
    with start_simulator(config) as running:
        yield running


def _push(sim: RunningSimulator, tmp_path: Path, updates: list[tuple[str, StatePush]]) -> list[PushResult]:
    settings = load_settings(hub_url=sim.base_url, issuer=ISSUER, secret=SecretStr(SECRET),
                             warehouse=tmp_path / "w.duckdb")  # fmt: skip

    async def go() -> list[PushResult]:
        connector = EfactConnector(HubClient.from_settings(settings), None)
        try:
            return await connector.push_states(updates)
        finally:
            await connector.aclose()

    return asyncio.run(go())


def _delivered(sim: RunningSimulator, n: int) -> list[str]:
    """``n`` pending invoices, delivered on the hub (as a sync leaves them)."""
    ids = sorted(sim.hub.pending_ids())[:n]
    for invoice_id in ids:
        sim.hub.update(invoice_id, {"estat": "DELIVERED"})
    return ids


def _patches(sim: RunningSimulator) -> dict[str, int]:
    """PATCHes the hub received, per invoice (faulted ones included: read from the path)."""
    out: dict[str, int] = {}
    for r in sim.hub.log.records():
        if r.method == "PATCH":
            invoice_id = r.path.rstrip("/").rsplit("/", 1)[-1]
            out[invoice_id] = out.get(invoice_id, 0) + 1
    return out


def test_each_update_is_one_patch_and_each_answer_a_result(sim: RunningSimulator, tmp_path: Path) -> None:
    ok, incomplete, refused, failing, dropped = _delivered(sim, 5)
    sim.hub.inject("PATCH", rf"^/factura/{refused}$", status=400, code=3007, times=1)
    sim.hub.inject("PATCH", rf"^/factura/{failing}$", status=500, times=1)
    sim.hub.inject("PATCH", rf"^/factura/{dropped}$", drop=True, times=1)
    annotate = StatePush(State.ANNOTATED, rcf_number="RCF-1")
    results = _push(sim, tmp_path, [
        (ok, annotate),
        (incomplete, StatePush(State.ANNOTATED)),  # eFACT's 3002: refused here, never sent
        (refused, annotate),
        (failing, annotate),
        (dropped, annotate),
    ])  # fmt: skip

    assert [(r.invoice_id, r.outcome) for r in results] == [
        (ok, "sent"), (incomplete, "refused"), (refused, "refused"), (failing, "uncertain"),
        (dropped, "uncertain"),
    ]  # fmt: skip
    by_id = {r.invoice_id: r for r in results}
    assert (by_id[incomplete].status, by_id[incomplete].code) == (None, "3002")
    assert (by_id[refused].status, by_id[refused].code) == (400, "3007")
    assert by_id[failing].status == 500
    assert by_id[dropped].status is None and by_id[dropped].message
    sent = _patches(sim)
    assert incomplete not in sent  # no HTTP call for a payload eFACT would refuse
    assert sent == {ok: 1, refused: 1, failing: 1, dropped: 1}
    assert sim.hub.invoices[ok].state is State.ANNOTATED
    assert sim.hub.invoices[ok].history[-1].rcf_number == "RCF-1"


def test_a_paid_update_carries_its_payment_date(sim: RunningSimulator, tmp_path: Path) -> None:
    (target,) = _delivered(sim, 1)
    day = date(2025, 11, 3)
    steps = [StatePush(State.ANNOTATED, rcf_number="RCF-9"), StatePush(State.RECOGNISED),
             StatePush(State.PAID, payment_date=day)]  # fmt: skip
    for step in steps:
        assert [r.outcome for r in _push(sim, tmp_path, [(target, step)])] == ["sent"]
    assert sim.hub.invoices[target].history[-1].payment_date == day.isoformat()
