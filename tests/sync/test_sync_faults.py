"""Hub failures and a killed process lose nothing and duplicate nothing; the next run resumes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from invariants import acknowledged_on_hub, assert_nothing_lost, pending_left, warehouse_rows
from sync_support import ISSUER, SECRET

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync


def sync(settings: Settings):
    return asyncio.run(run_sync(settings))


@pytest.mark.sim(invoices=80, faults=Faults(error_rate=0.12, drop_rate=0.08))
def test_500s_and_dropped_connections_then_reruns(sim: RunningSimulator, settings: Settings) -> None:
    runs = []
    for _ in range(6):
        runs.append(sync(settings))
        if pending_left(sim) == 0 and not sim.hub.pending_attachment_ids():
            break
    assert pending_left(sim) == 0
    assert sum(r.retries for r in runs) > 0, "faults were injected, retries expected"
    assert_nothing_lost(sim, settings)
    stored = {r[0] for r in warehouse_rows(settings, "select invoice_id from raw.invoices")}
    # Some acknowledgements were applied but their answer was dropped: the hub's state is the truth.
    delivered = {i.id for i in sim.hub.invoices.values() if i.state.value == "DELIVERED"}
    assert stored == delivered


@pytest.mark.sim(invoices=10)
def test_lost_acknowledgement_answer_is_not_acknowledged_twice(
    sim: RunningSimulator, settings: Settings
) -> None:
    # The PATCH is applied by the hub but its answer never arrives.
    sim.hub.inject("PATCH", r"^/factura/\d+$", drop=True, after=True, times=3)
    first = sync(settings)
    second = sync(settings)
    assert pending_left(sim) == 0
    assert first.invoices_acknowledged + second.invoices_acknowledged <= 13
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=12)
def test_an_invoice_whose_xml_cannot_be_fetched_is_not_acknowledged(
    sim: RunningSimulator, settings: Settings
) -> None:
    stuck = sim.hub.pending_ids()[3]
    sim.hub.inject("GET", rf"^/factura/{stuck}/facturae$", status=500, times=None)
    summary = sync(settings)
    assert not summary.ok and any(d["invoice_id"] == stuck for d in summary.deferred)
    assert stuck in sim.hub.pending_ids()  # still waiting on the hub, nothing lost
    assert stuck not in acknowledged_on_hub(sim)
    assert pending_left(sim) == 1
    sim.hub.clear_injections()
    assert sync(settings).ok and pending_left(sim) == 0
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=200, faults=Faults(latency_ms=3))
def test_sigkill_mid_sync_then_rerun(sim: RunningSimulator, settings: Settings, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        RCFLOW_HUB_URL=sim.base_url,
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET=SECRET,
        RCFLOW_WAREHOUSE=str(settings.warehouse),
        RCFLOW_CONCURRENCY="8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcflow.cli.main", "sync", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(acknowledged_on_hub(sim)) < 25 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    acked_before = acknowledged_on_hub(sim)
    assert 0 < len(acked_before) < 200, "the kill must land mid-sync"
    assert_nothing_lost(sim, settings)  # what was acknowledged was stored before the kill
    summary = sync(settings)
    assert summary.ok, summary.deferred
    assert pending_left(sim) == 0
    assert_nothing_lost(sim, settings)
    ids = warehouse_rows(settings, "select count(*), count(distinct invoice_id) from raw.invoices")[0]
    assert ids[0] == ids[1] == len(acknowledged_on_hub(sim))


@pytest.mark.sim(invoices=12, page_size=5)
def test_invoices_stuck_in_the_queue_stop_the_drain_instead_of_looping(
    sim: RunningSimulator, settings: Settings
) -> None:
    # The hub rejected these itself; rejected invoices stay in the pending list (only DELIVERED
    # and ANNOTATED take an invoice out), and DELIVERED is refused for them (3007).
    stuck = sim.hub.pending_ids()[:6]
    for invoice_id in stuck:
        sim.hub.update(invoice_id, {"estat": "REJECTED", "descripcioMotiuRebuig": "Error de registre"})
    summary = sync(settings)
    assert summary.stopped_early and "keeps listing the same" in summary.stopped_early
    assert summary.pages <= 3
    stored = {r[0] for r in warehouse_rows(settings, "select invoice_id from raw.invoices")}
    assert set(stuck[:5]) <= stored  # stored (kept, never lost) even though the hub won't let go
    assert_nothing_lost(sim, settings)
