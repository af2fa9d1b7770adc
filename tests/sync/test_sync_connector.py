"""The ingest behind the connector interface: layer rule, eFACT's fit, blobs durable before rows."""

from __future__ import annotations

import ast
import asyncio
import inspect
from pathlib import Path

import pytest
from invariants import assert_nothing_lost, pending_left

import rcflow.ingest
import rcflow.ingest.sync as sync_module
from rcflow.config import Settings
from rcflow.connectors.base import Connector
from rcflow.connectors.efact.connector import EfactConnector
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.store import BlobStore

INGEST = Path(rcflow.ingest.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_ingest_imports_no_hub_package() -> None:
    offenders = {
        path.name: sorted(m for m in _imports(path) if m.startswith("rcflow.connectors.efact"))
        for path in INGEST.glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}
    assert "rcflow.connectors.registry" in _imports(INGEST / "run.py")


def test_efact_offers_every_member_of_the_interface_with_its_signature() -> None:
    members = {n for n in vars(Connector) if not n.startswith("_")} | set(Connector.__annotations__)
    for name in members:
        assert hasattr(EfactConnector, name), name
        wanted = getattr(Connector, name, None)
        if inspect.iscoroutinefunction(wanted):
            got = getattr(EfactConnector, name)
            assert inspect.iscoroutinefunction(got), name
            assert list(inspect.signature(got).parameters) == list(inspect.signature(wanted).parameters)
    assert EfactConnector.source == "efact"
    assert EfactConnector.final_states == {"PAID", "REJECTED"}


@pytest.mark.sim(invoices=120, page_size=50)
def test_every_blob_of_a_batch_is_synced_before_its_rows_are_committed(
    sim: RunningSimulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    real = sync_module.store_bundles

    def store_bundles(wh, store: BlobStore, bundles, **kwargs):  # type: ignore[no-untyped-def]
        unsynced = {Path(p).name for p in store._unsynced}
        blobs = {b.xml_sha256 for b in bundles} | {a.sha256 for b in bundles for a in b.attachments}
        assert not blobs & unsynced, "rows committed before their blobs were made durable"
        assert all(b.facturae is not None for b in bundles), "parsed beside the download"
        checked.append(len(bundles))
        return real(wh, store, bundles, **kwargs)

    monkeypatch.setattr(sync_module, "store_bundles", store_bundles)
    summary = asyncio.run(run_sync(settings))
    assert summary.ok, summary.deferred
    assert summary.source == "efact"
    assert sum(checked) == summary.invoices_seen >= 120
    assert pending_left(sim) == 0
    assert_nothing_lost(sim, settings)


def test_a_blob_left_short_by_a_crash_before_sync_is_replaced(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"<Facturae>" + b"x" * 5000)
    blob = writer.commit(durable=False)
    path = store.path_for(blob.sha256)
    path.write_bytes(path.read_bytes()[:100])  # what a crash before sync() may leave
    assert store.problem(blob.sha256, blob.size) is not None
    again = store.writer()
    again.write(b"<Facturae>" + b"x" * 5000)
    again.commit(durable=False)
    store.sync()
    assert store.problem(blob.sha256, blob.size) is None and not store._unsynced
