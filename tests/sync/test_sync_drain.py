"""The sync against the simulator over loopback HTTP: pages, attachments, refresh, backfill."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from invariants import assert_nothing_lost, pending_left, warehouse_rows

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_backfill, run_sync
from rcflow.store import BlobStore


def sync(settings: Settings, **kwargs: object):
    return asyncio.run(run_sync(settings, **kwargs))


@pytest.mark.sim(invoices=130, page_size=50)
def test_drains_several_pages_and_acknowledges_only_stored(sim: RunningSimulator, settings: Settings) -> None:
    summary = sync(settings)
    assert summary.ok, summary.deferred
    assert summary.pages >= 3
    assert summary.invoices_new == summary.invoices_acknowledged >= 130
    assert pending_left(sim) == 0
    assert_nothing_lost(sim, settings)
    # Every pending invoice's detail, history and XML are in; raw JSON kept as received.
    rows = warehouse_rows(
        settings,
        "select count(*), count(xml_sha256), count(delivered_at), count(raw_json) from raw.invoices",
    )[0]
    assert rows[0] == rows[1] == rows[3] and rows[2] == summary.invoices_acknowledged
    states = warehouse_rows(settings, "select count(distinct invoice_id) from raw.invoice_states")[0][0]
    assert states == rows[0]
    # The views answer.
    assert warehouse_rows(settings, "select count(*) from invoices")[0][0] == rows[0]
    assert warehouse_rows(settings, "select count(*) from invoice_lines")[0][0] > 0
    assert warehouse_rows(settings, "select count(*) from installments")[0][0] > 0


@pytest.mark.sim(invoices=40, late_attachment_rate=0.0)
def test_rerun_is_idempotent(sim: RunningSimulator, settings: Settings) -> None:
    first = sync(settings)
    before = warehouse_rows(
        settings,
        "select (select count(*) from raw.invoices), (select count(*) from raw.invoice_states),"
        " (select count(*) from raw.attachments), (select count(*) from raw.facturae_lines)",
    )
    second = sync(settings, refresh_age=timedelta(0))
    after = warehouse_rows(
        settings,
        "select (select count(*) from raw.invoices), (select count(*) from raw.invoice_states),"
        " (select count(*) from raw.attachments), (select count(*) from raw.facturae_lines)",
    )
    assert first.invoices_new >= 40 and second.invoices_new == 0
    assert second.states_refreshed == before[0][0]  # none is final yet: all re-read
    # Refresh appends the DELIVERED entries the hub now shows, nothing else changes.
    assert after[0][0] == before[0][0] and after[0][2] == before[0][2] and after[0][3] == before[0][3]
    assert after[0][1] >= before[0][1]
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=30, late_attachment_rate=0.5, late_attachment_calls=0)
def test_late_attachments_stored_then_released(sim: RunningSimulator, settings: Settings) -> None:
    sync(settings)
    added = sim.hub.add_attachment(
        sim.hub.pending_ids()[0] if sim.hub.pending_ids() else next(iter(sim.hub.invoices))
    )
    sim.hub.deliver_late_attachments()
    summary = sync(settings)
    assert summary.ok
    assert sim.hub.pending_attachment_ids() == []
    stored = dict(
        warehouse_rows(settings, "select attachment_id, released_at is not null from raw.attachments")
    )
    assert stored.get(added) is True
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=20)
def test_refresh_catches_a_rejection_made_elsewhere(sim: RunningSimulator, settings: Settings) -> None:
    sync(settings)
    target = next(iter(sorted(warehouse_rows(settings, "select invoice_id from raw.invoices"))))[0]
    sim.hub.update(target, {"estat": "REJECTED", "descripcioMotiuRebuig": "Duplicada"})
    sync(settings, refresh_age=timedelta(0))
    row = warehouse_rows(
        settings,
        f"select hub_state, reject_reason from raw.invoices where invoice_id = '{target}'",
    )[0]
    assert row == ("REJECTED", "Duplicada")
    last = warehouse_rows(
        settings,
        f"select state from raw.invoice_states where invoice_id = '{target}' order by seq desc limit 1",
    )[0][0]
    assert last == "REJECTED"


@pytest.mark.sim(invoices=5, backfill=15)
def test_backfill_by_ids_stores_history_without_acknowledging(
    sim: RunningSimulator, settings: Settings
) -> None:
    ids = sim.hub.backfill_ids
    summary = asyncio.run(run_backfill(settings, ids))
    assert summary.invoices_new == len(ids) and summary.invoices_acknowledged == 0
    assert not [r for r in sim.hub.log.records() if r.method == "PATCH"]
    rows = warehouse_rows(
        settings, "select count(*), count(distinct hub_state) from raw.invoices where source = 'backfill'"
    )[0]
    assert rows[0] == len(ids) and rows[1] >= 3
    states = warehouse_rows(settings, "select count(*) from raw.invoice_states")[0][0]
    assert states >= 3 * len(ids)


def test_backfill_from_an_ftp_archive(sim: RunningSimulator, settings: Settings, tmp_path: Path) -> None:
    from rcflow.connectors.efact.simulator.ftp import write_ftp_archive
    from rcflow.ingest.ftp_archive import ids_from_args

    folder = tmp_path / "ftp"
    write_ftp_archive(sim.hub, sim.hub.backfill_ids, folder)
    ids = ids_from_args([str(folder)])
    assert sorted(ids) == sorted(sim.hub.backfill_ids)
    summary = asyncio.run(run_backfill(settings, ids))
    assert summary.invoices_new == len(ids)


@pytest.mark.sim(invoices=40, hostile_rate=0.5)
def test_hostile_documents_are_kept_quarantined_and_never_resolved(
    sim: RunningSimulator, settings: Settings
) -> None:
    summary = sync(settings)
    assert summary.ok, summary.deferred
    hostile = sim.hub.hostile_ids
    assert {"xxe", "bomb", "malformed"} <= set(hostile.values()), hostile
    quarantined = dict(
        warehouse_rows(settings, "select invoice_id, reason from ops.quarantine where stage = 'facturae'")
    )
    store = BlobStore(settings.store_dir)
    for invoice_id, kind in hostile.items():
        if kind in {"xxe", "bomb"}:
            assert quarantined.get(invoice_id) == "dtd_or_entities", (invoice_id, kind)
        elif kind == "malformed":
            assert quarantined.get(invoice_id) == "malformed_xml", (invoice_id, kind)
    # Kept as raw bytes, in the store, and the invoice was acknowledged (it is durably stored).
    for invoice_id in quarantined:
        sha = warehouse_rows(
            settings, f"select xml_sha256 from raw.invoices where invoice_id = '{invoice_id}'"
        )
        assert store.has(sha[0][0])
    names = [r[0] for r in warehouse_rows(settings, "select name from raw.attachments")]
    assert any(n and (".." in n or n.startswith("/")) for n in names), "hostile names are kept as data"
    # Nothing escaped the store: every file under data/ is the warehouse, its snapshot or a blob.
    data = settings.warehouse.parent
    for path in data.rglob("*"):
        if path.is_file():
            assert path.parent == data or "sha256" in path.parts, path
    assert not Path("/etc/passwd.rcflow").exists()
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=40, hostile_rate=0.5)
def test_a_facturae_quarantine_is_resolved_when_a_refetch_parses(
    sim: RunningSimulator, settings: Settings
) -> None:
    """Re-fetched and still hostile: stays open, first detection kept. Re-fetched and parsing (a
    parser fix, a corrected file): resolved, not deleted, the invoice no longer flagged. Broken
    again: reopened as a new detection."""
    assert sync(settings).ok
    hostile = sim.hub.hostile_ids
    fixed = sorted(i for i, kind in hostile.items() if kind == "malformed")[0]
    broken = sorted(i for i, kind in hostile.items() if kind in {"xxe", "bomb"})[0]

    def quarantine() -> dict[str, tuple]:
        return {
            r[0]: r[1:]
            for r in warehouse_rows(
                settings,
                "select invoice_id, reason, detected_at, resolved_at from ops.quarantine"
                f" where stage = 'facturae' and invoice_id in ('{fixed}', '{broken}')",
            )
        }

    def flagged(invoice_id: str) -> bool:
        sql = f"select is_quarantined from invoices where invoice_id = '{invoice_id}'"
        return warehouse_rows(settings, sql)[0][0]

    before = quarantine()
    assert before[fixed][2] is None and before[broken][2] is None and flagged(fixed)

    sim.hub.invoice(fixed).hostile = None
    assert asyncio.run(run_backfill(settings, [fixed, broken])).ok
    after = quarantine()
    assert after[broken] == before[broken]
    assert after[fixed][:2] == before[fixed][:2] and after[fixed][2] is not None
    assert not flagged(fixed) and flagged(broken)

    sim.hub.invoice(fixed).hostile = "malformed"
    assert asyncio.run(run_backfill(settings, [fixed])).ok
    again = quarantine()
    assert again[fixed][0] == "malformed_xml" and again[fixed][2] is None
    assert again[fixed][1] > before[fixed][1] and flagged(fixed)
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=6, late_attachment_rate=0.0)
def test_empty_large_and_unicode_attachments(sim: RunningSimulator, settings: Settings) -> None:
    import hashlib
    import os

    target = sim.hub.pending_ids()[0]
    big = os.urandom(6 * 1024 * 1024)
    cases = {
        sim.hub.add_attachment(target, name="buit.txt", content=b""): b"",
        sim.hub.add_attachment(target, name="plànol gran · 大きい.bin", content=big): big,
        sim.hub.add_attachment(target, name="../../etc/passwd", content=b"root:x:0:0"): b"root:x:0:0",
    }
    summary = sync(settings)
    assert summary.ok, summary.deferred
    query = "select attachment_id, name, size_bytes, sha256 from raw.attachments"
    rows = {r[0]: r[1:] for r in warehouse_rows(settings, query)}
    store = BlobStore(settings.store_dir)
    for attachment_id, content in cases.items():
        name, size, sha = rows[attachment_id]
        assert size == len(content) and sha == hashlib.sha256(content).hexdigest()
        assert store.get(sha) == content
    assert rows[next(iter(cases))][0] == "buit.txt"
    assert any(r[0] == "../../etc/passwd" for r in rows.values())
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=40)
def test_raw_hub_json_is_kept_as_received(sim: RunningSimulator, settings: Settings) -> None:
    import json

    from rcflow.connectors.efact.simulator.models import Q_PROVEEDOR

    sync(settings)
    raws = dict(warehouse_rows(settings, "select invoice_id, raw_json from raw.invoices"))
    spanish = [i for i in raws if sim.hub.invoices[i].quirks & Q_PROVEEDOR]
    assert spanish, "the simulator sent no Spanish-spelled detail"
    for invoice_id in spanish:
        assert "nifProveedor" in json.loads(raws[invoice_id])  # not normalised on the way in
    invoice_id = next(iter(raws))
    stored = [
        json.loads(r[0])
        for r in warehouse_rows(
            settings,
            f"select raw_json from raw.invoice_states where invoice_id = '{invoice_id}' order by seq",
        )
    ]
    # The entries the hub had when we fetched (it has appended DELIVERED since).
    assert stored == sim.hub.history(invoice_id)["estats"][: len(stored)]
    entity = json.loads(warehouse_rows(settings, "select raw_json from raw.entities limit 1")[0][0])
    assert entity in sim.hub.entities()["ens"]
