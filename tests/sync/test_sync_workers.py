"""Downloads spread over worker processes: same guarantees as in-process, and a dead worker
fails the run cleanly (nothing it was fetching is acknowledged) for the next run to resume."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from invariants import acknowledged_on_hub, assert_nothing_lost, pending_left, warehouse_rows
from sync_support import SECRET

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.fetchers import WorkerFailed
from rcflow.ingest.run import run_sync

WORKER_MARK = "rcflow.ingest.fetchers import worker_main"


def worker_processes() -> dict[int, str]:
    """This process's download workers: pid → command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and WORKER_MARK in cmdline:
            found[int(entry.name)] = cmdline
    return found


@pytest.mark.sim(invoices=260, faults=Faults(error_rate=0.1, drop_rate=0.05))
def test_workers_with_500s_and_dropped_connections_lose_nothing(
    sim: RunningSimulator, settings: Settings
) -> None:
    settings = settings.model_copy(update={"workers": 2})
    queued = set(sim.hub.pending_ids())
    runs = []
    for _ in range(6):
        runs.append(asyncio.run(run_sync(settings)))
        if pending_left(sim) == 0 and not sim.hub.pending_attachment_ids():
            break
    assert runs[0].download_processes == 2
    assert pending_left(sim) == 0
    assert sum(r.retries for r in runs) > 0, "faults were injected: the workers' retries are counted"
    assert_nothing_lost(sim, settings)
    stored = {r[0] for r in warehouse_rows(settings, "select invoice_id from raw.invoices")}
    assert stored == queued, "every queued invoice stored, and nothing else"
    assert not worker_processes(), "workers are stopped with the run"


@pytest.mark.sim(invoices=120)
def test_in_process_requests_are_counted(sim: RunningSimulator, settings: Settings) -> None:
    in_process = asyncio.run(run_sync(settings.model_copy(update={"workers": 1})))
    assert in_process.download_processes == 1
    logged = len(sim.hub.log.records())
    assert in_process.requests == logged


@pytest.mark.sim(invoices=120)
def test_worker_requests_are_counted(sim: RunningSimulator, settings: Settings) -> None:
    summary = asyncio.run(run_sync(settings.model_copy(update={"workers": 2})))
    assert summary.download_processes == 2 and summary.ok
    assert summary.requests == len(sim.hub.log.records())


@pytest.mark.sim(invoices=400, faults=Faults(latency_ms=5))
def test_a_killed_worker_fails_the_run_loses_nothing_and_the_rerun_completes(
    sim: RunningSimulator, settings: Settings
) -> None:
    settings = settings.model_copy(update={"workers": 2})

    async def run_and_kill_a_worker() -> None:
        task = asyncio.create_task(run_sync(settings))
        while len(acknowledged_on_hub(sim)) < 20 and not task.done():
            await asyncio.sleep(0.005)
        workers = worker_processes()
        assert len(workers) == 2
        assert not any(SECRET in cmdline for cmdline in workers.values()), "secret on a command line"
        os.kill(next(iter(workers)), signal.SIGKILL)
        with pytest.raises(WorkerFailed, match="re-run to resume"):
            await task

    asyncio.run(run_and_kill_a_worker())
    acked = acknowledged_on_hub(sim)
    assert 0 < len(acked) < 400, "the kill must land mid-sync"
    assert_nothing_lost(sim, settings)
    assert not worker_processes(), "the surviving worker is stopped with the failed run"
    summary = asyncio.run(run_sync(settings))
    assert summary.ok, summary.deferred
    assert pending_left(sim) == 0
    assert_nothing_lost(sim, settings)
