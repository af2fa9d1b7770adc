"""The push against the simulator: lifecycle order, exactly once, refusals, crashes, re-runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from pydantic import SecretStr

from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.accounting import simulate_accounting_events
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import RunningSimulator, start_simulator
from rcflow.connectors.efact.states import State
from rcflow.ingest.run import run_sync
from rcflow.push import execute
from rcflow.push.run import plan_push, run_import, run_push
from rcflow.warehouse import Warehouse

ISSUER = "hub_push"
SECRET = "push-tests-secret-0123456789-abcdefghijk"
TODAY = date(2025, 11, 20)


@pytest.fixture
def hub_and_settings(tmp_path: Path):
    config = SimConfig(
        seed=5,
        invoices=40,
        backfill=12,
        entities=2,
        today=TODAY,
        issuers={ISSUER: SECRET},
        large_attachment_rate=0.0,
    )
    with start_simulator(config) as sim:
        settings = load_settings(
            hub_url=sim.base_url,
            issuer=ISSUER,
            secret=SecretStr(SECRET),
            warehouse=tmp_path / "data" / "warehouse.duckdb",
        )
        asyncio.run(run_sync(settings))
        yield sim, settings


def patches(sim: RunningSimulator) -> Counter:
    return Counter(
        (r.invoice_id, str((r.body or {}).get("estat", "")).strip())
        for r in sim.hub.log.records()
        if r.method == "PATCH" and r.status == 200
    )


def write_events(tmp_path: Path, rows: list[tuple], name: str = "events.csv") -> Path:
    path = tmp_path / name
    frame = pl.DataFrame(
        rows, schema=["invoice_id", "state", "date", "rcf_number", "reason_code", "reason"], orient="row"
    )
    frame.write_csv(path)
    return path


def delivered_ids(settings: Settings) -> list[str]:
    with Warehouse(settings.warehouse, publish=False) as wh:
        return [
            r[0]
            for r in wh.fetch("select invoice_id from raw.invoices where delivered_at is not null order by 1")
        ]


def test_full_lifecycle_in_order_and_exactly_once(hub_and_settings, tmp_path: Path) -> None:
    sim, settings = hub_and_settings
    a, b = delivered_ids(settings)[:2]
    day = TODAY - timedelta(days=5)
    events = write_events(
        tmp_path,
        [
            (a, "PAID", str(day), None, None, None),
            (a, "RECOGNISED", str(day - timedelta(days=1)), None, None, None),
            (a, "ANNOTATED", str(day - timedelta(days=3)), "RCF-2025-1", None, None),
            (a, "ACCEPTED", str(day - timedelta(days=2)), None, None, None),
            (b, "ANNOTATED", str(day - timedelta(days=3)), "RCF-2025-2", None, None),
            (b, "REJECTED", str(day), None, "E01", "Falta el número d'expedient"),
        ],
    )
    run_import(settings, [events])
    summary = asyncio.run(run_push(settings))
    assert summary.ok and summary.pushed == 6, summary.as_dict()
    states_a = [e.state for e in sim.hub.invoices[a].history]
    assert states_a[-4:] == [State.ANNOTATED, State.ACCEPTED, State.RECOGNISED, State.PAID]
    assert sim.hub.invoices[a].history[-1].payment_date == str(day)
    assert sim.hub.invoices[b].state is State.REJECTED
    assert set(patches(sim).values()) == {1}
    # The warehouse now shows what the hub shows; a re-run pushes nothing.
    again = asyncio.run(run_push(settings))
    assert again.pushed == 0 and again.owed == 0
    assert set(patches(sim).values()) == {1}
    with Warehouse(settings.warehouse, publish=False) as wh:
        audit = wh.fetch("select count(*), count(distinct run_id) from ops.push_audit")[0]
        outbox = dict(wh.fetch("select status, count(*) from ops.push_outbox group by 1"))
    assert audit == (6, 1) and outbox == {"sent": 6}


def test_hub_refusals_are_recorded_and_the_run_goes_on(hub_and_settings, tmp_path: Path) -> None:
    sim, settings = hub_and_settings
    ids = delivered_ids(settings)
    refused, fine = ids[0], ids[1]
    # The hub moves this invoice to REJECTED behind our back; our copy still says DELIVERED.
    sim.hub.update(refused, {"estat": "REJECTED", "descripcioMotiuRebuig": "Duplicada"})
    sim.hub.inject("PATCH", rf"^/factura/{fine}$", status=400, code=3007, times=1)
    events = write_events(
        tmp_path,
        [
            (refused, "ANNOTATED", str(TODAY), "RCF-1", None, None),
            (fine, "ANNOTATED", str(TODAY), "RCF-2", None, None),
            (ids[2], "ANNOTATED", str(TODAY), "RCF-3", None, None),
        ],
    )
    run_import(settings, [events])
    summary = asyncio.run(run_push(settings))
    # The pre-flight saw the rejection: a discrepancy, not a PATCH.
    assert any(d["invoice_id"] == refused for d in summary.discrepancies)
    assert (refused, "ANNOTATED") not in patches(sim)
    assert [r["invoice_id"] for r in summary.refused] == [fine] and summary.refused[0]["code"] == "3007"
    assert sim.hub.invoices[ids[2]].state is State.ANNOTATED
    with Warehouse(settings.warehouse, publish=False) as wh:
        row = wh.fetch(
            "select status, http_status, error_code from ops.push_outbox where invoice_id = ?", [fine]
        )
    assert row == [("refused", 400, "3007")]


def test_crash_between_patch_and_recording_then_rerun(
    hub_and_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, settings = hub_and_settings
    ids = delivered_ids(settings)[:5]
    run_import(
        settings,
        [write_events(tmp_path, [(i, "ANNOTATED", str(TODAY), f"RCF-{i}", None, None) for i in ids])],
    )

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed between the PATCH and recording its outcome")

    monkeypatch.setattr(execute, "record_outcomes", crash)
    with pytest.raises(SystemExit):
        asyncio.run(run_push(settings))
    assert all(sim.hub.invoices[i].state is State.ANNOTATED for i in ids)  # applied on the hub
    with Warehouse(settings.warehouse, publish=False) as wh:
        assert {r[0] for r in wh.fetch("select status from ops.push_outbox")} == {"pending"}
    monkeypatch.undo()
    summary = asyncio.run(run_push(settings))
    assert summary.pushed == 0 and summary.owed == 0  # nothing sent twice
    assert set(patches(sim).values()) == {1}
    with Warehouse(settings.warehouse, publish=False) as wh:
        assert {r[0] for r in wh.fetch("select status from ops.push_outbox")} == {"sent"}


def test_lost_answer_is_confirmed_not_repeated(hub_and_settings, tmp_path: Path) -> None:
    sim, settings = hub_and_settings
    target = delivered_ids(settings)[0]
    run_import(settings, [write_events(tmp_path, [(target, "ANNOTATED", str(TODAY), "RCF-X", None, None)])])
    sim.hub.inject("PATCH", rf"^/factura/{target}$", drop=True, after=True, times=1)
    summary = asyncio.run(run_push(settings))
    assert summary.confirmed_already_on_hub == 1 and summary.ok
    sent = [
        r
        for r in sim.hub.log.records()
        if r.method == "PATCH" and r.invoice_id == target and (r.body or {}).get("estat") == "ANNOTATED"
    ]
    assert len(sent) == 1 and sent[0].fault == "inject:drop"  # one call, applied, its answer lost
    history = [e.state for e in sim.hub.invoices[target].history]
    assert history.count(State.ANNOTATED) == 1


def test_server_errors_leave_the_update_owed(hub_and_settings, tmp_path: Path, monkeypatch) -> None:
    sim, settings = hub_and_settings
    monkeypatch.setattr(execute, "AMBIGUOUS_WAIT", 0.01)
    target = delivered_ids(settings)[0]
    run_import(settings, [write_events(tmp_path, [(target, "ANNOTATED", str(TODAY), "RCF-Y", None, None)])])
    sim.hub.inject("PATCH", rf"^/factura/{target}$", status=500, times=None)
    summary = asyncio.run(run_push(settings))
    assert not summary.ok and summary.failed[0]["invoice_id"] == target
    sim.hub.clear_injections()
    assert plan_push(settings).owed_count == 1  # still owed
    assert asyncio.run(run_push(settings)).pushed == 1


def test_simulated_accounting_system_pushes_cleanly(hub_and_settings, tmp_path: Path) -> None:
    sim, settings = hub_and_settings
    with Warehouse(settings.warehouse, publish=False) as wh:
        invoices = pl.from_arrow(
            wh.arrow(
                "select invoice_id, cast(registry_at as date) as registry_date,"
                " amount_cents / 100.0 as amount, hub_state from raw.invoices where registry_at is not null"
            )
        )
    events = simulate_accounting_events(invoices, seed=3, today=TODAY)
    path = tmp_path / "accounting.csv"
    events.write_csv(path)
    run_import(settings, [path])
    summary = asyncio.run(run_push(settings))
    assert summary.pushed > 0 and not summary.failed, summary.as_dict()
    assert set(patches(sim).values()) == {1}
    assert asyncio.run(run_push(settings)).pushed == 0
