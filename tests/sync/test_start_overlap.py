"""Overlapping writes: a blob flush another thread has in flight is waited for, and late
attachments are released while invoices still download."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.store import BlobStore


def test_a_second_sync_waits_for_the_flush_in_flight(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BlobStore(tmp_path / "store")
    writer = store.writer()
    writer.write(b"a blob flushed by the first caller")
    writer.commit(durable=False)
    started, release = threading.Event(), threading.Event()
    flush = store._flush

    def slow_flush(pending: list[Path]) -> None:
        started.set()
        release.wait(10)
        flush(pending)

    monkeypatch.setattr(store, "_flush", slow_flush)
    first = threading.Thread(target=store.sync)
    first.start()
    assert started.wait(10)
    returned: list[float] = []
    second = threading.Thread(target=lambda: (store.sync(), returned.append(time.monotonic())))
    second.start()
    time.sleep(0.2)
    assert not returned  # the blob it would trust is not durable yet
    release.set()
    first.join(10)
    second.join(10)
    assert returned


@pytest.mark.sim(invoices=600, late_attachment_rate=0.0, late_attachment_calls=0)
def test_attachments_are_released_while_invoices_download(sim: RunningSimulator, settings: Settings) -> None:
    summary = asyncio.run(run_sync(settings, refresh=False))
    assert summary.ok and summary.invoices_acknowledged == 600
    assert summary.attachments_released > 0 and not sim.hub.pending_attachment_ids()
    records = sim.hub.log.records()
    releases = [r.seq for r in records if r.method == "DELETE" and r.path.startswith("/adjunts-pendents/")]
    downloads = [r.seq for r in records if r.method == "GET" and r.path.startswith("/factura/")]
    assert len(releases) == summary.attachments_released
    assert min(releases) < max(downloads)  # the first releases went out while invoices downloaded
