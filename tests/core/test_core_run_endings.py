"""How runs end, told truthfully: SIGTERM/SIGINT stop sync and push cleanly and are recorded as
interrupted with what they did; a SIGKILLed run is closed as abandoned by the next start.

rcflow runs in a subprocess (as Prefect and systemd run it) against the simulator over loopback;
the truth is read back from the hub's request log and the warehouse."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from pydantic import SecretStr
from run_support import (
    ISSUER,
    SECRET,
    TODAY,
    kill_when,
    one_line,
    patches,
    rcflow_env,
    rows,
    runs,
    signal_when,
    simulator,
)

from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.push.run import run_import, run_push
from rcflow.warehouse import Warehouse, fresh_snapshot
from rcflow.warehouse.runs import ABANDONED, INTERRUPTED, close_abandoned, start_run


def settings_for(sim: RunningSimulator, warehouse: Path) -> Settings:
    return load_settings(
        hub_url=sim.base_url, issuer=ISSUER, secret=SecretStr(SECRET), warehouse=warehouse, workers=1
    )


def assert_acknowledged_were_stored(sim: RunningSimulator, warehouse: Path) -> None:
    stored = {r[0] for r in rows(warehouse, "select invoice_id from raw.invoices")}
    acknowledged = {invoice_id for invoice_id, _ in patches(sim, "DELIVERED")}
    assert acknowledged <= stored
    assert set(patches(sim, "DELIVERED").values()) <= {1}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signalled_sync_stops_cleanly_and_is_recorded_interrupted(tmp_path: Path, signum: int) -> None:
    with simulator(invoices=300, faults=Faults(latency_ms=20)) as sim:
        warehouse = tmp_path / "data" / "warehouse.duckdb"
        code, stderr = signal_when(
            rcflow_env(sim, warehouse), ["sync"], lambda: len(patches(sim, "DELIVERED")) >= 120, signum
        )
        assert code == 128 + signum
        assert f"interrupted ({signal.Signals(signum).name})" in one_line(stderr)
        [(_, kind, status, summary)] = runs(warehouse)
        assert (kind, status, summary["ok"]) == ("sync", INTERRUPTED, False)
        delivered = rows(warehouse, "select count(*) from raw.invoices where delivered_at is not null")[0][0]
        assert 0 < summary["invoices_acknowledged"] == delivered < 300
        assert summary["invoices_new"] == rows(warehouse, "select count(*) from raw.invoices")[0][0]
        assert_acknowledged_were_stored(sim, warehouse)
        # The snapshot holds the interrupted run's record: `rcflow status` shows what happened.
        snapshot = fresh_snapshot(warehouse)
        assert rows(snapshot, "select status from ops.runs") == [(INTERRUPTED,)]


def _owed_three_states_each(sim: RunningSimulator, settings: Settings, tmp_path: Path) -> int:
    """Sync, then import ANNOTATED → RECOGNISED → PAID for every invoice: three waves to push."""
    asyncio.run(run_sync(settings))
    ids = [r[0] for r in rows(settings.warehouse, "select invoice_id from raw.invoices order by 1")]
    day = TODAY - timedelta(days=5)
    events = [
        (i, state, str(day + timedelta(days=n)), f"RCF-{i}" if state == "ANNOTATED" else None, None, None)
        for i in ids
        for n, state in enumerate(("ANNOTATED", "RECOGNISED", "PAID"))
    ]
    path = tmp_path / "events.csv"
    pl.DataFrame(
        events, schema=["invoice_id", "state", "date", "rcf_number", "reason_code", "reason"], orient="row"
    ).write_csv(path)
    run_import(settings, [path])
    return len(events)


def test_a_signalled_push_is_recorded_interrupted_with_what_it_pushed(tmp_path: Path) -> None:
    with simulator(invoices=60) as sim:
        settings = settings_for(sim, tmp_path / "data" / "warehouse.duckdb")
        owed = _owed_three_states_each(sim, settings, tmp_path)
        sim.hub.faults = Faults(latency_ms=40)
        # Let the first wave be answered and recorded, then stop it during the next ones.
        code, stderr = signal_when(
            rcflow_env(sim, settings.warehouse),
            ["push"],
            lambda: len(patches(sim, "ANNOTATED")) == 60 and len(patches(sim, "RECOGNISED")) >= 5,
            signal.SIGTERM,
        )
        assert code == 128 + signal.SIGTERM
        assert "interrupted (SIGTERM)" in one_line(stderr)
        push_runs = [r for r in runs(settings.warehouse) if r[1] == "push"]
        [(run_id, _, status, summary)] = push_runs
        applied = sum(patches(sim).values()) - sum(patches(sim, "DELIVERED").values())
        audited = rows(
            settings.warehouse,
            "select count(*) from ops.push_audit where run_id = ? and http_status = 200",
            [run_id],
        )[0][0]
        # Not "ok, pushed 0": what was answered is counted, the rest is left pending, not lost.
        assert status == INTERRUPTED and summary["pushed"] == audited >= 60
        assert summary["pushed"] + summary["left_pending"] >= applied > 0
        # The next push finishes the job, each state exactly once, in order.
        again = asyncio.run(run_push(settings))
        assert again.ok, again.as_dict()
        assert sum(patches(sim).values()) - sum(patches(sim, "DELIVERED").values()) == owed
        assert set(patches(sim).values()) == {1}


def test_a_killed_sync_is_closed_as_abandoned_by_the_next_run(tmp_path: Path) -> None:
    with simulator(invoices=300, faults=Faults(latency_ms=20)) as sim:
        warehouse = tmp_path / "data" / "warehouse.duckdb"
        kill_when(rcflow_env(sim, warehouse), ["sync"], lambda: len(patches(sim, "DELIVERED")) >= 120)
        acknowledged_before = len(patches(sim, "DELIVERED"))
        sim.hub.faults = Faults()
        summary = asyncio.run(run_sync(settings_for(sim, warehouse)))
        assert summary.ok
        (dead_id, _, dead_status, dead), (live_id, _, live_status, _) = runs(warehouse)
        assert (dead_status, live_status) == (ABANDONED, "ok") and live_id == summary.run_id
        assert dead["closed_by"] == summary.run_id and "killed" in dead["reason"]
        assert dead["pid"] > 0 and dead["host"]
        # What the dead run had committed before the kill: at most what the hub saw acknowledged.
        assert 0 < dead["invoices_acknowledged"] <= acknowledged_before
        assert_acknowledged_were_stored(sim, warehouse)


def test_a_killed_push_is_closed_with_its_recorded_calls(tmp_path: Path) -> None:
    with simulator(invoices=60) as sim:
        settings = settings_for(sim, tmp_path / "data" / "warehouse.duckdb")
        owed = _owed_three_states_each(sim, settings, tmp_path)
        sim.hub.faults = Faults(latency_ms=40)
        kill_when(
            rcflow_env(sim, settings.warehouse),
            ["push"],
            lambda: len(patches(sim, "ANNOTATED")) == 60 and len(patches(sim, "RECOGNISED")) >= 5,
        )
        sim.hub.faults = Faults()
        again = asyncio.run(run_push(settings))
        assert again.ok
        [(dead_id, _, status, dead), _] = [r for r in runs(settings.warehouse) if r[1] == "push"]
        assert status == ABANDONED and dead["closed_by"] == again.run_id
        assert dead["pushed"] >= 60 and dead["hub_calls_recorded"] >= dead["pushed"]
        assert sum(patches(sim).values()) - sum(patches(sim, "DELIVERED").values()) == owed
        assert set(patches(sim).values()) == {1}


def test_only_runs_of_other_processes_are_closed(tmp_path: Path) -> None:
    """A run of this very process (say, a flow step in progress) is alive: it is never closed."""
    with Warehouse(tmp_path / "w.duckdb") as wh:
        start_run(wh, "sync-mine", "sync")
        with wh.transaction() as con:
            con.execute(
                "insert into ops.runs (run_id, kind, started_at, status, summary)"
                " values ('push-dead', 'push', now(), 'running', ?)",
                [json.dumps({"pid": 1, "host": "elsewhere", "process": "1-deadbeef"})],
            )
        assert close_abandoned(wh, by="check-now") == ["push-dead"]
        found = dict(wh.fetch("select run_id, status from ops.runs"))
    assert found == {"sync-mine": "running", "push-dead": ABANDONED}


def test_a_killed_downloads_temp_file_is_removed_by_the_next_sync(tmp_path: Path) -> None:
    with simulator(invoices=5) as sim:
        settings = settings_for(sim, tmp_path / "data" / "warehouse.duckdb")
        tmp = settings.store_dir / "tmp"
        tmp.mkdir(parents=True)
        dead, live = tmp / "blob-dead", tmp / "blob-live"
        dead.write_bytes(b"<Facturae half")
        live.write_bytes(b"being written")
        an_hour_ago = time.time() - 3600
        os.utime(dead, (an_hour_ago, an_hour_ago))
        summary = asyncio.run(run_sync(settings))
        assert summary.ok
        assert not dead.exists() and live.exists()  # a recent one may be another download's
        [(_, _, _, record)] = runs(settings.warehouse)
        assert record["dead_download_files_removed"] == 1
