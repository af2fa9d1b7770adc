"""Entry points for sync and backfill: settings in, summary out (used by the CLI and the flows)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from rcflow.config import Settings
from rcflow.connectors.registry import connect
from rcflow.ingest.sync import ProgressFn, Syncer, SyncSummary
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id, recorded_run

DEFAULT_REFRESH_AGE = timedelta(hours=1)
DEFAULT_REFRESH_LIMIT = 5000
# A temp file untouched this long belongs to a dead download (live ones are written every read).
DEAD_DOWNLOAD_AGE = timedelta(minutes=10)
log = logging.getLogger("rcflow.ingest")


def clear_dead_downloads(store: BlobStore, *, older_than: timedelta = DEAD_DOWNLOAD_AGE) -> int:
    """Temp files of downloads killed mid-way removed by ``store`` (when opened, and now).

    Called by a sync or backfill holding the writer lock before its own downloads start: the only
    processes that write blobs are such runs, so under the lock a temp file
    untouched for ``older_than`` is an orphan (the store alone, without the lock, waits longer).
    """
    removed = store.swept + store.sweep_tmp(older_than=older_than.total_seconds())
    if removed:
        log.info("removed %d temp files of dead downloads from %s", removed, store.tmp_dir)
    return removed


@asynccontextmanager
async def _recorded_run(settings: Settings, kind: str, progress: ProgressFn | None) -> AsyncIterator[Syncer]:
    """A writer session on the warehouse, the hub's connector, and the run recorded in ``ops.runs``.

    However the run ends (done, failed, interrupted), its record keeps the counts of what it did.
    """
    settings.require_hub()
    summary = SyncSummary(run_id=new_run_id(kind))
    started = time.monotonic()
    cleared = 0

    def final() -> dict[str, object]:
        summary.seconds = round(time.monotonic() - started, 3)
        return {**summary.as_dict(), "dead_download_files_removed": cleared}

    with (
        Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh,
        recorded_run(wh, summary.run_id, kind, summary=final, ok=lambda: summary.ok),
    ):
        store = BlobStore(settings.store_dir)
        cleared = clear_dead_downloads(store)
        hub = connect(settings, store)
        syncer = Syncer(hub, wh, store, summary, progress=progress, window=settings.concurrency)
        try:
            yield syncer
        finally:
            await hub.aclose()
            summary.requests, summary.retries = hub.requests, hub.retries


async def run_sync(
    settings: Settings,
    *,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    refresh_age: timedelta = DEFAULT_REFRESH_AGE,
    refresh_limit: int = DEFAULT_REFRESH_LIMIT,
    progress: ProgressFn | None = None,
) -> SyncSummary:
    """Entities, pending invoices and late attachments (alongside), then a bounded state refresh."""
    async with _recorded_run(settings, "sync", progress) as syncer:
        await syncer.entities()
        await syncer.drain(nif=nif, office=office)
        if refresh:
            await syncer.refresh_states(max_age=refresh_age, limit=refresh_limit)
    return syncer.summary


async def run_backfill(
    settings: Settings, ids: Sequence[str], *, progress: ProgressFn | None = None
) -> SyncSummary:
    """Fetch detail, XML, attachments and history of the given hub ids (no acknowledgement)."""
    async with _recorded_run(settings, "backfill", progress) as syncer:
        await syncer.backfill(ids)
    return syncer.summary
