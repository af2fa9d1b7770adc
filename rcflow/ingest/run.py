"""Entry points for sync and backfill: settings in, summary out (used by the CLI and the flows).

``run_sync`` / ``run_backfill`` run one hub (one recorded run in ``ops.runs``, its summary naming
the hub as ``source``); ``sync_hubs`` / ``backfill_hubs`` run each selected hub in turn, so a
hub that fails (unreachable, refused, a certificate that will not load) does not stop the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import timedelta

from rcflow.config import ConfigError, Settings
from rcflow.connectors.base import HandlesCancellations, LearnsEntities, ReportsCreditAssignments
from rcflow.connectors.registry import check_hubs, connect, one_hub
from rcflow.ingest.cancellations import drain_cancellations
from rcflow.ingest.sync import ProgressFn, Syncer, SyncSummary
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id, recorded_run, warehouse_failed

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
async def _recorded_run(
    settings: Settings, kind: str, progress: ProgressFn | None, hub: str, summary: SyncSummary | None = None
) -> AsyncIterator[Syncer]:
    """A writer session on the warehouse, the hub's connector, and the run recorded in ``ops.runs``.

    However the run ends (done, failed, interrupted), its record keeps the counts of what it did.
    """
    check_hubs(settings, hub)
    summary = summary or SyncSummary(run_id=new_run_id(f"{kind}-{hub}"))
    summary.source = hub
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
        connector = connect(settings, store, hub)
        syncer = Syncer(connector, wh, store, summary, progress=progress, window=settings.concurrency)
        try:
            yield syncer
        finally:
            await connector.aclose()
            summary.requests, summary.retries = connector.requests, connector.retries


async def run_sync(
    settings: Settings,
    *,
    hub: str | None = None,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    refresh_age: timedelta = DEFAULT_REFRESH_AGE,
    refresh_limit: int = DEFAULT_REFRESH_LIMIT,
    progress: ProgressFn | None = None,
    summary: SyncSummary | None = None,
) -> SyncSummary:
    """One hub (``hub``, or the only one configured): entities, pending invoices and late
    attachments (alongside), then a bounded state refresh.

    The entities are read first, so a hub that refuses us or cannot be reached fails on its first
    call (exit 3); a hub that learns them from its invoices (:class:`LearnsEntities`) is read
    again after the drain, a cheap in-memory answer, and those are stored as well."""
    name = one_hub(settings, hub)
    async with _recorded_run(settings, "sync", progress, name, summary) as syncer:
        await syncer.entities()
        await syncer.drain(nif=nif, office=office)
        await _learnt_entities(syncer)
        if refresh:
            await syncer.refresh_states(max_age=refresh_age, limit=refresh_limit)
        await _drain_cancellations(syncer, office=office)
    return syncer.summary


async def _learnt_entities(syncer: Syncer) -> None:
    """Store the entities a hub learnt from the invoices it served (nothing for eFACT)."""
    if isinstance(syncer.hub, LearnsEntities) and syncer.hub.entities_from_invoices:
        await syncer.entities()


async def _drain_cancellations(syncer: Syncer, *, office: str | None) -> None:
    """The hub's cancellation requests and credit assignments (FACe; eFACT has none), after the
    invoices: a failure to read them leaves the invoices stored and says so as a deferral."""
    if not isinstance(syncer.hub, HandlesCancellations | ReportsCreditAssignments):
        return
    try:
        drained = await drain_cancellations(syncer.hub, syncer.wh, office=office)
    except Exception as exc:
        if warehouse_failed(exc):
            raise
        syncer.summary.deferred.append(
            {"invoice_id": "", "reason": f"cancellation requests not read: {str(exc)[:300]}"}
        )
        return
    syncer.summary.cancellation_requests += drained.requests
    syncer.summary.credit_assignments += drained.credit_assignments
    syncer.summary.deferred.extend(
        {"invoice_id": f["invoice_id"], "reason": f"credit assignment not read: {f['reason']}"}
        for f in drained.failures
    )


async def run_backfill(
    settings: Settings,
    ids: Sequence[str],
    *,
    hub: str | None = None,
    progress: ProgressFn | None = None,
    summary: SyncSummary | None = None,
) -> SyncSummary:
    """Fetch detail, XML, attachments and history of the given hub ids (no acknowledgement);
    the entities a hub learns from them are stored too (FACe's buyers)."""
    name = one_hub(settings, hub)
    async with _recorded_run(settings, "backfill", progress, name, summary) as syncer:
        await syncer.backfill(ids)
        await _learnt_entities(syncer)
    return syncer.summary


@dataclass
class HubRuns:
    """What one sync or backfill did on each hub it ran on: a summary per hub (a failed hub's
    counts what it did before failing) and the error of each hub that failed."""

    kind: str
    summaries: dict[str, SyncSummary] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and all(s.ok for s in self.summaries.values())

    @property
    def total(self) -> SyncSummary:
        """The hubs' counts added up (deferred items carry their hub)."""
        total = SyncSummary(run_id=",".join(s.run_id for s in self.summaries.values()),
                            source=",".join(self.summaries))  # fmt: skip
        for f in fields(SyncSummary):
            values = [getattr(s, f.name) for s in self.summaries.values()]
            if f.type in ("int", "float"):
                setattr(total, f.name, sum(values))
        total.seconds = round(total.seconds, 3)
        total.deferred = [{**d, "hub": h} for h, s in self.summaries.items() for d in s.deferred]
        total.warnings = [f"{h}: {w}" for h, s in self.summaries.items() for w in s.warnings]
        stops = [f"{h}: {s.stopped_early}" for h, s in self.summaries.items() if s.stopped_early]
        total.stopped_early = "; ".join(stops) or None
        return total

    def as_dict(self) -> dict[str, object]:
        """The totals under the keys of one hub's summary, plus ``hubs`` (each hub's summary) and
        ``failed_hubs`` (hub: its error, one line); a hub that failed is not ``ok`` in its own entry."""
        return {
            **self.total.as_dict(),
            "ok": self.ok,
            "hubs": {
                h: {**s.as_dict(), "ok": s.ok and h not in self.errors} for h, s in self.summaries.items()
            },
            "failed_hubs": {h: error_line(e) for h, e in self.errors.items()},
        }


def error_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


async def _each_hub(
    kind: str, hubs: Sequence[str], run: Callable[[str, SyncSummary], Awaitable[SyncSummary]]
) -> HubRuns:
    """``run`` on each hub in turn; a hub's failure is kept, unless the warehouse itself failed."""
    runs = HubRuns(kind)
    for name in hubs:
        summary = runs.summaries[name] = SyncSummary(run_id=new_run_id(f"{kind}-{name}"), source=name)
        try:
            await run(name, summary)
        except Exception as exc:
            if warehouse_failed(exc):
                raise
            log.warning("%s of %s failed: %s", kind, name, error_line(exc))
            runs.errors[name] = exc
    return runs


async def sync_hubs(
    settings: Settings,
    *,
    hub: str | None = None,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    refresh_age: timedelta = DEFAULT_REFRESH_AGE,
    refresh_limit: int = DEFAULT_REFRESH_LIMIT,
    progress: ProgressFn | None = None,
) -> HubRuns:
    """:func:`run_sync` on ``hub``, or on each configured hub in turn (a recorded run each)."""

    async def run(name: str, summary: SyncSummary) -> SyncSummary:
        return await run_sync(settings, hub=name, nif=nif, office=office, refresh=refresh,
                              refresh_age=refresh_age, refresh_limit=refresh_limit, progress=progress,
                              summary=summary)  # fmt: skip

    return await _each_hub("sync", check_hubs(settings, hub), run)


async def backfill_hubs(
    settings: Settings, ids: Sequence[str], *, hub: str | None = None, progress: ProgressFn | None = None
) -> HubRuns:
    """:func:`run_backfill` of the ids that belong to each hub (FACe's are ``face:…``)."""
    by_hub = {name: [i for i in ids if hub_of(i) == name] for name in settings.select_hubs(hub)}
    unknown = sorted({hub_of(i) for i in ids} - set(by_hub))
    if unknown:
        raise ConfigError(f"ids of {', '.join(unknown)} given, but that hub is not "
                          f"{'selected' if hub else 'configured'}")  # fmt: skip
    hubs = check_hubs(settings, hub)  # every configuration problem named before any run

    async def run(name: str, summary: SyncSummary) -> SyncSummary:
        return await run_backfill(settings, by_hub[name], hub=name, progress=progress, summary=summary)

    return await _each_hub("backfill", [h for h in hubs if by_hub[h]], run)


def hub_of(invoice_id: str) -> str:
    """The hub an id belongs to: ``face:<numeroRegistro>`` is FACe's, anything else eFACT's."""
    return "face" if invoice_id.startswith("face:") else "efact"
