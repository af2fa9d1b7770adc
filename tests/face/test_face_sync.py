"""rcflow's real sync drains FACe into a real DuckDB warehouse and blob store, losing nothing.

FACe is stricter than eFACT: a confirmed invoice can never be downloaded again, so every
invoice FACe shows past 1200 must be in the warehouse with its file and annexes (checked against
the simulator's own state by ``assert_nothing_lost``), whatever failed or was killed on the way.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from face_sync_support import (
    assert_nothing_lost,
    confirmed_on_hub,
    face_environment,
    face_settings,
    rows,
    store_dir,
    sync_face,
)
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.face import client as client_module
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.settings import FaceSettings
from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig, RunningFaceSimulator
from rcflow.connectors.face.simulator.certs import certificate_pem, write_pem
from rcflow.ingest.sync import Syncer, SyncSummary
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id

SUPPORT = Path(__file__).with_name("face_sync_support.py")


@pytest.fixture
def pems(tmp_path: Path, client_id: FaceCredentials, face_id: FaceCredentials) -> tuple[Path, Path]:
    cert = write_pem(client_id, tmp_path / "platform.pem")
    server_cert = tmp_path / "face.pem"
    server_cert.write_bytes(certificate_pem(face_id))
    return cert, server_cert


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "data" / "warehouse.duckdb"


def _hub(
    server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials, **config: object
) -> FaceHub:
    base = FaceSimConfig(seed=5, invoices=40, processed=0, cancellations=0, credit_assignments=0)
    return server.reset(FaceHub(base.with_(**config), identity=face_id, clients=(client_id.certificate,)))


@pytest.fixture
def settings(server: RunningFaceSimulator, pems: tuple[Path, Path]) -> FaceSettings:
    return face_settings(server.url, *pems)


def _sync(settings: FaceSettings, warehouse: Path):  # noqa: ANN202
    return asyncio.run(sync_face(settings, warehouse))


def test_a_sync_stores_every_invoice_then_confirms_it(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    settings: FaceSettings,
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id)
    waiting = hub.waiting()
    summary = _sync(settings, warehouse)
    assert summary.ok, summary.deferred
    assert summary.invoices_new == summary.invoices_acknowledged == len(waiting) and hub.waiting() == []
    assert confirmed_on_hub(hub, waiting) == set(waiting)
    assert {hub.invoice(n).rcf_code for n in waiting} == {f"RCFLOW-{n}" for n in waiting}
    assert_nothing_lost(hub, warehouse, waiting)
    assert rows(warehouse, "select distinct source_hub from raw.invoices") == [("face",)]
    assert rows(warehouse, "select count(*) from raw.invoice_states where source_hub = 'face'")[0][0] >= len(
        waiting
    )
    assert rows(warehouse, "select count(*) from raw.entities where source_hub = 'face'")[0][0] >= 1
    annexes = sum(len(hub.annexes(n)) for n in waiting)
    assert rows(warehouse, "select count(*) from raw.attachments where source_hub = 'face'")[0][0] == annexes
    states = dict(rows(warehouse, "select invoice_id, hub_state from raw.invoices"))
    assert set(states.values()) == {"DELIVERED"}
    # A second run finds nothing waiting and stores nothing twice.
    blobs = sum(1 for p in (store_dir(warehouse) / "sha256").rglob("*") if p.is_file())
    downloads = len(hub.log.records("descargarFactura"))
    again = _sync(settings, warehouse)
    assert again.ok and again.invoices_new == 0 and again.invoices_seen == 0
    assert len(hub.log.records("descargarFactura")) == downloads
    assert sum(1 for p in (store_dir(warehouse) / "sha256").rglob("*") if p.is_file()) == blobs
    assert_nothing_lost(hub, warehouse, waiting)


def test_500s_and_drops_on_download_and_confirm_lose_nothing(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    pems: tuple[Path, Path],
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=60)
    waiting = hub.waiting()
    # Reads retry once only, so some downloads fail for good this run; writes are never retried.
    settings = face_settings(server.url, *pems, max_retries=1)
    hub.inject("descargarFactura", status=500, times=6)
    hub.inject("descargarFactura", drop=True, times=4)
    hub.inject("confirmarDescargaFactura", status=500, times=3)  # refused before applying
    hub.inject("confirmarDescargaFactura", drop=True, after=True, times=3)  # applied, answer lost
    hub.inject("confirmarDescargaFactura", drop=True, times=2)  # dropped before applying
    first = _sync(settings, warehouse)
    assert_nothing_lost(hub, warehouse, waiting)
    deferred = {d["invoice_id"].removeprefix("face:") for d in first.deferred}
    assert deferred, "faults were injected: some invoices must have been deferred"
    assert deferred <= set(hub.waiting()), "a deferred invoice must still be downloadable (1200)"
    stored = {i.removeprefix("face:") for (i,) in rows(warehouse, "select invoice_id from raw.invoices")}
    assert confirmed_on_hub(hub, waiting) <= stored
    # The lost answers were recognised as confirmations (FACe's state decides), not deferred.
    lost = [r for r in hub.log.records("confirmarDescargaFactura") if r.status == 0 and r.code == "0"]
    assert len(lost) == 3 and not {r.registry_numbers[0] for r in lost} & deferred
    runs = [first]
    while hub.waiting() and len(runs) < 5:
        runs.append(_sync(settings, warehouse))
        assert_nothing_lost(hub, warehouse, waiting)
    assert hub.waiting() == [] and runs[-1].ok
    assert confirmed_on_hub(hub, waiting) == set(waiting)
    assert rows(warehouse, "select count(*), count(distinct invoice_id) from raw.invoices")[0] == (
        len(waiting),
        len(waiting),
    )


@pytest.mark.slow
def test_sigkill_mid_sync_then_rerun(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    pems: tuple[Path, Path],
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=200, faults=Faults(latency_ms=4))
    waiting = hub.waiting()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_")}
    proc = subprocess.Popen(
        [sys.executable, str(SUPPORT), server.url, str(pems[0]), str(pems[1]), str(warehouse)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while len(confirmed_on_hub(hub, waiting)) < 30 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    confirmed = confirmed_on_hub(hub, waiting)
    assert 0 < len(confirmed) < len(waiting), "the kill must land mid-sync"
    assert_nothing_lost(hub, warehouse, waiting)  # what was confirmed was stored before the kill
    # Killed while downloading too: invoices whose files are in the store, not yet confirmed.
    store = BlobStore(store_dir(warehouse))
    downloaded = {n for n in waiting if store.has(hashlib.sha256(hub.document(n)).hexdigest())}
    assert downloaded - confirmed, "the kill must land while invoices were downloaded but not confirmed"
    summary = _sync(face_settings(server.url, *pems), warehouse)
    assert summary.ok, summary.deferred
    assert hub.waiting() == []
    assert_nothing_lost(hub, warehouse, waiting)
    total, distinct = rows(warehouse, "select count(*), count(distinct invoice_id) from raw.invoices")[0]
    assert total == distinct == len(waiting)


def test_a_state_refresh_keeps_what_only_the_download_gave(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    settings: FaceSettings,
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=3)
    waiting = hub.waiting()
    assert _sync(settings, warehouse).ok
    hub.force_state(waiting[0], "2100")
    columns = "invoice_number, amount_cents, supplier_nif, entity_nif, registry_at, accounting_office"
    before = rows(warehouse, f"select {columns} from raw.invoices order by invoice_id")

    async def refresh() -> None:
        with Warehouse(warehouse) as wh:
            store = BlobStore(store_dir(warehouse))
            connector = FaceConnector.from_settings(settings, store)
            syncer = Syncer(connector, wh, store, SyncSummary(run_id=new_run_id("sync")))
            try:
                await syncer.refresh_states(max_age=timedelta(0), limit=100)
            finally:
                await connector.aclose()
            assert syncer.summary.states_refreshed == len(waiting)

    asyncio.run(refresh())
    states = dict(rows(warehouse, "select invoice_id, hub_state from raw.invoices"))
    assert states[f"face:{waiting[0]}"] == "RECEIVED"
    assert rows(warehouse, f"select {columns} from raw.invoices order by invoice_id") == before


def test_a_face_refresh_reads_only_face_invoices(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    settings: FaceSettings,
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=2)
    assert _sync(settings, warehouse).ok
    with Warehouse(warehouse) as wh:  # an eFACT invoice in the same warehouse, not final
        wh.con.execute(
            "insert into raw.invoices (invoice_id, hub_state, source, raw_json, first_seen_at, fetched_at,"
            " source_hub) values ('4711', 'DELIVERED', 'pending', '{}', now() - interval 2 day,"
            " now() - interval 2 day, 'efact')"
        )
    calls = len(hub.log.records())

    async def refresh() -> SyncSummary:
        with Warehouse(warehouse) as wh:
            store = BlobStore(store_dir(warehouse))
            connector = FaceConnector.from_settings(settings, store)
            syncer = Syncer(connector, wh, store, SyncSummary(run_id=new_run_id("sync")))
            try:
                await syncer.refresh_states(max_age=timedelta(0), limit=100)
            finally:
                await connector.aclose()
            return syncer.summary

    summary = asyncio.run(refresh())
    assert summary.ok, summary.deferred
    assert summary.states_refreshed == 2 and len(hub.log.records()) > calls
    assert rows(warehouse, "select source_hub, hub_state from raw.invoices where invoice_id = '4711'") == [
        ("efact", "DELIVERED")
    ]


def test_cancellation_requests_arriving_during_a_sync_do_not_disturb_it(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    settings: FaceSettings,
    warehouse: Path,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=20, cancellation_arrival_rate=0.2)
    waiting = hub.waiting()
    summary = _sync(settings, warehouse)
    assert summary.ok and hub.waiting() == []
    assert_nothing_lost(hub, warehouse, waiting)
    arrived = {n for n in waiting if hub.invoice(n).cancellation.value == "4200"}
    assert arrived, "requests must have arrived during the run"

    async def listed() -> set[str]:
        connector = FaceConnector.from_settings(settings, None)
        try:
            return {r.invoice_id for r in await connector.cancellation_requests()}
        finally:
            await connector.aclose()

    assert {f"face:{n}" for n in arrived} <= asyncio.run(listed())


def test_a_capped_listing_is_drained_page_after_page(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    settings: FaceSettings,
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FACe lists at most 500 per office; scaled down here to 3 so a small hub needs many pages.
    monkeypatch.setattr(client_module, "MAX_NEW_INVOICES", 3)
    hub = _hub(server, face_id, client_id, invoices=30, page_size=3)
    waiting = hub.waiting()
    busiest = max(Counter(hub.invoice(n).office for n in waiting).values())
    assert busiest > 3
    summary = _sync(settings, warehouse)
    assert summary.ok and hub.waiting() == [] and summary.invoices_new == len(waiting)
    assert summary.pages >= busiest // 3 + 1
    assert_nothing_lost(hub, warehouse, waiting)


def test_rcflow_sync_stores_the_buyers_it_learnt_as_face_entities(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    pems: tuple[Path, Path],
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FACe lists no entities: the command stores the Facturae buyers of the invoices it drained."""
    hub = _hub(server, face_id, client_id, invoices=8)
    waiting = hub.waiting()
    face_environment(monkeypatch, server.url, pems, warehouse, {hub.invoice(n).office for n in waiting})
    result = CliRunner().invoke(app, ["sync", "--hub", "face", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["entities"] > 0 and hub.waiting() == []
    assert _buyers(hub, waiting) <= _face_entities(warehouse)


def test_rcflow_backfill_stores_the_buyers_of_what_it_fetched(
    server: RunningFaceSimulator,
    face_id: FaceCredentials,
    client_id: FaceCredentials,
    pems: tuple[Path, Path],
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = _hub(server, face_id, client_id, invoices=3)
    number = next(n for n in hub.waiting() if hub.invoice(n).doc.mismatch != "buyer_nif")
    face_environment(monkeypatch, server.url, pems, warehouse, {hub.invoice(number).office})
    result = CliRunner().invoke(app, ["backfill", "--hub", "face", "--ids", f"face:{number}", "--json"])
    assert result.exit_code == 0, result.output
    assert hub.invoice(number).state.value == "1200"  # a backfill never confirms
    assert _face_entities(warehouse) == _buyers(hub, [number])


def _buyers(hub: FaceHub, numbers: list[str]) -> set[str]:
    """The buyer NIFs the simulator wrote into these invoices' Facturae (a mismatched one aside)."""
    buyers = {hub.invoice(n).doc.entity.cif for n in numbers if hub.invoice(n).doc.mismatch != "buyer_nif"}
    assert buyers
    return buyers


def _face_entities(warehouse: Path) -> set[str]:
    stored = rows(warehouse, "select entity_nif, entity_name, source_hub from raw.entities")
    assert {hub for _, _, hub in stored} == {"face"} and all(name for _, name, _ in stored)
    return {nif for nif, _, _ in stored}
