"""The sync: drain the hub's queues into the warehouse without ever losing an invoice.

Per page of at most 500 pending invoices, as a stream of batches of 50:

1. fetch detail, Facturae file, attachments and state history of each (bounded concurrency);
2. write blobs (fsynced) and rows (one DuckDB transaction) — durable;
3. only then acknowledge each stored invoice with ``PATCH estat=DELIVERED``.

The batches overlap (one is acknowledged while the next downloads); the next page is requested
only when every invoice of the page is stored and acknowledged, as the hub's queue requires.

A crash anywhere leaves, at worst, stored-but-unacknowledged invoices, which the next run finds
in the queue again and re-stores idempotently (upserts keyed on the hub id). Late attachments are
drained the same way: stored, then released with ``DELETE /adjunts-pendents/:id``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from rcflow.connectors.efact import HubClient
from rcflow.connectors.efact.models import InvoiceDetail, PendingAttachment, StateHistory
from rcflow.connectors.efact.settle import settle
from rcflow.connectors.efact.states import TERMINAL_STATES
from rcflow.ingest.bundle import FetchFailure, InvoiceBundle, fetch_attachment, fetch_history
from rcflow.ingest.fetchers import InProcessFetcher, ProcessFetcher
from rcflow.ingest.load import record_acknowledged, store_bundles, store_refreshed
from rcflow.ingest.rows import ATTACHMENT_SCHEMA, attachment_row, entity_rows
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse, raw

ProgressFn = Callable[[str, int], None]
Fetcher = InProcessFetcher | ProcessFetcher
# Invoices committed in one transaction and then acknowledged together.
BATCH = 50
# Jobs of at least this many invoices go to worker processes (when the run has them).
PROCESSES_FROM = 2 * BATCH


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SyncSummary:
    run_id: str
    entities: int = 0
    pages: int = 0
    invoices_new: int = 0
    invoices_seen: int = 0
    invoices_acknowledged: int = 0
    amount_new_cents: int = 0
    attachments_stored: int = 0
    late_attachments_stored: int = 0
    attachments_released: int = 0
    states_refreshed: int = 0
    quarantined: int = 0
    deferred: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    download_processes: int = 1
    seconds: float = 0.0
    stopped_early: str | None = None

    @property
    def ok(self) -> bool:
        return not self.deferred and self.stopped_early is None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["amount_new"] = round(self.amount_new_cents / 100, 2)
        data["ok"] = self.ok
        return data

    def rows(self) -> list[tuple[str, object]]:
        """The one-screen summary, as (label, value) pairs (terminal table, Prefect artifact)."""
        return [
            ("entities", self.entities),
            ("new invoices", self.invoices_new),
            ("invoices stored (new + re-read)", self.invoices_seen),
            ("acknowledged to the hub (DELIVERED)", self.invoices_acknowledged),
            ("amount of new invoices", f"{self.amount_new_cents / 100:,.2f} €"),
            ("attachments stored with invoices", self.attachments_stored),
            ("late attachments stored", self.late_attachments_stored),
            ("attachments released on the hub", self.attachments_released),
            ("state histories refreshed", self.states_refreshed),
            ("quarantined (kept, flagged)", self.quarantined),
            ("deferred to the next run", len(self.deferred)),
            ("hub requests / retried", f"{self.requests} / {self.retries}"),
            ("download processes", self.download_processes),
            ("time", f"{self.seconds:.1f} s"),
        ]


def _noop(kind: str, n: int) -> None:
    pass


class Syncer:
    """One sync run against one hub and one warehouse."""

    def __init__(
        self,
        hub: HubClient,
        wh: Warehouse,
        store: BlobStore,
        summary: SyncSummary,
        *,
        progress: ProgressFn | None = None,
        processes: Callable[[], ProcessFetcher] | None = None,
    ):
        """``processes`` starts worker processes for big jobs; without it, all runs in-process."""
        self.hub, self.wh, self.store, self.summary = hub, wh, store, summary
        self.progress = progress or _noop
        # One DuckDB connection: writes run in a worker thread, one at a time.
        self._writer = asyncio.Lock()
        self._local = InProcessFetcher(hub, store)
        self._start_processes = processes
        self._processes: ProcessFetcher | None = None

    async def entities(self) -> None:
        listing = await self.hub.entities()
        raw.store_entities(self.wh, entity_rows(listing, _now()))
        self.summary.entities = len(listing.ens)

    # ------------------------------------------------------------ pending invoices

    async def drain_invoices(self, *, nif: str | None = None, office: str | None = None) -> None:
        stored_this_run: set[str] = set()
        seen: set[str] = set()
        while True:
            page = await self.hub.pending_invoices(nif=nif, office=office)
            self.summary.pages += 1
            ids = list(dict.fromkeys(f.id for f in page.factures))
            if not ids:
                return
            fresh = [i for i in ids if i not in seen]
            seen.update(ids)
            acked = await self._process_page(ids, stored_this_run)
            if not page.mesFactures:
                return
            if not fresh:
                self.summary.stopped_early = (
                    f"the hub keeps listing the same {len(ids)} invoices although they were stored "
                    "(rejected or not acknowledgeable there); stopped instead of looping — "
                    "ask the hub's support, and shard with --nif/--office meanwhile"
                )
                return
            if acked == 0:
                self.summary.stopped_early = (
                    f"the pending queue did not move: {len(ids)} invoices could not be stored "
                    "or acknowledged; they stay on the hub for the next run"
                )
                return

    async def _process_page(self, ids: list[str], stored_this_run: set[str]) -> int:
        """Fetch, store and acknowledge one page as a stream (see ``_fetch_and_store``)."""
        # Stored earlier in this run but listed again (their acknowledgement failed): ack only.
        again = [i for i in ids if i in stored_this_run]
        todo = [i for i in ids if i not in stored_this_run]
        fetcher = self._fetcher_for(len(todo))

        async def acknowledge(bundles: list[InvoiceBundle]) -> int:
            stored_this_run.update(b.invoice_id for b in bundles)
            return await self._acknowledge_stored([b.invoice_id for b in bundles], fetcher)

        acked = await self._fetch_and_store(todo, source="pending", fetcher=fetcher, then=acknowledge)
        return acked + await self._acknowledge_stored(again, fetcher)

    async def _fetch_and_store(
        self,
        ids: Sequence[str],
        *,
        source: str,
        fetcher: Fetcher,
        then: Callable[[list[InvoiceBundle]], Awaitable[int]] | None = None,
    ) -> int:
        """Fetch every invoice's bundle; commit them in batches as they complete, then ``then``.

        Each batch of ``BATCH`` complete bundles is committed (one transaction) while the next
        ones download, then handed to ``then`` (the acknowledgement). Failures are deferred.
        Returns the sum of what ``then`` returned.
        """
        now = _now()

        async def commit(bundles: list[InvoiceBundle]) -> int:
            await self._store(bundles, source=source, now=now)
            return await then(bundles) if then is not None else 0

        commits: list[asyncio.Task[int]] = []
        try:
            batch: list[InvoiceBundle] = []
            async with aclosing(fetcher.bundles(ids, now)) as stream:
                async for results in stream:
                    for result in results:
                        if isinstance(result, FetchFailure):
                            self._defer(result.invoice_id, result.reason)
                        else:
                            batch.append(result)
                    if len(batch) >= BATCH:
                        commits.append(asyncio.create_task(commit(batch)))
                        batch = []
            if batch:
                commits.append(asyncio.create_task(commit(batch)))
            return sum(await asyncio.gather(*commits))
        finally:
            for task in commits:
                task.cancel()  # no-op for finished ones
            await asyncio.gather(*commits, return_exceptions=True)  # and every error retrieved

    def _fetcher_for(self, invoices: int) -> Fetcher:
        """Worker processes for big jobs (started once, on first need); small ones in-process."""
        if invoices < PROCESSES_FROM or self._start_processes is None:
            return self._local
        if self._processes is None:
            self._processes = self._start_processes()
            self.summary.download_processes = len(self._processes)
        return self._processes

    async def aclose(self) -> None:
        if self._processes is not None:
            await self._processes.aclose()

    @property
    def requests(self) -> int:
        """Requests made for this run, in this process and in the workers."""
        return self.hub.stats.requests + (self._processes.requests if self._processes else 0)

    @property
    def retries(self) -> int:
        return self.hub.stats.retries + (self._processes.retries if self._processes else 0)

    async def _store(self, bundles: list[InvoiceBundle], *, source: str, now: datetime) -> None:
        """Commit complete bundles (one transaction, in order with the other writes)."""
        async with self._writer:
            new_ids, quarantined = await asyncio.to_thread(
                store_bundles, self.wh, self.store, bundles, source=source, now=now
            )
        self.summary.invoices_seen += len(bundles)
        self.summary.invoices_new += len(new_ids)
        self.summary.quarantined += len(quarantined)
        self.summary.attachments_stored += sum(len(b.attachments) for b in bundles)
        self.summary.amount_new_cents += sum(
            b.detail.amount_cents or 0 for b in bundles if b.invoice_id in new_ids
        )
        self.progress("invoices", len(bundles))

    async def _acknowledge_stored(self, ids: Sequence[str], fetcher: Fetcher) -> int:
        """Durable: now, and only now, acknowledge (PATCH DELIVERED) and record it."""
        if not ids:
            return 0
        acked = []
        for result in await fetcher.acknowledge(ids):
            if isinstance(result, FetchFailure):
                self._defer(result.invoice_id, result.reason)
            else:
                acked.append(result)
        async with self._writer:
            await asyncio.to_thread(record_acknowledged, self.wh, acked, now=_now())
        self.summary.invoices_acknowledged += len(acked)
        return len(acked)

    def _defer(self, invoice_id: str, reason: str) -> None:
        """Left on the hub for the next run: nothing was acknowledged for it."""
        self.summary.deferred.append({"invoice_id": invoice_id, "reason": reason})

    # ------------------------------------------------------------ late attachments

    async def drain_attachments(self, *, nif: str | None = None, office: str | None = None) -> None:
        while True:
            page = await self.hub.pending_attachments(nif=nif, office=office)
            items = list({a.idAdjunt: a for a in page.adjunts}.values())
            if not items:
                return
            released = await self._process_attachment_page(items)
            if not page.mesAdjunts:
                return
            if released == 0:
                self.summary.stopped_early = (
                    f"the attachment queue did not move: {len(items)} attachments could not be "
                    "stored or released; they stay on the hub for the next run"
                )
                return

    async def _process_attachment_page(self, items: list[PendingAttachment]) -> int:
        known = raw.known_ids(self.wh, "raw.attachments", "attachment_id", [a.idAdjunt for a in items])
        todo = [a for a in items if a.idAdjunt not in known]
        now = _now()
        fetched, failed = await settle(todo, lambda a: fetch_attachment(self.hub, self.store, a.idFactura, a))
        for item, error in failed:
            self._defer(item.idFactura, f"attachment {item.idAdjunt}: {error}")
        rows = [attachment_row(a.idFactura, got, source="pending", fetched_at=now) for a, got in fetched]
        stored = known | {a.idAdjunt for a, _ in fetched}
        raw.store_attachments(self.wh, pa.Table.from_pylist(rows, schema=ATTACHMENT_SCHEMA))
        self.summary.late_attachments_stored += len(rows)
        self.progress("attachments", len(rows))
        # Durable: now release them on the hub.
        to_release = [a.idAdjunt for a in items if a.idAdjunt in stored]
        done, failed = await settle(to_release, self.hub.release_attachment)
        for attachment_id, error in failed:
            self._defer("", f"release of attachment {attachment_id}: {error}")
        released = [attachment_id for attachment_id, _ in done]
        raw.mark_attachments_released(self.wh, released, now=_now())
        self.summary.attachments_released += len(released)
        return len(released)

    # ------------------------------------------------------------ state refresh

    async def refresh_states(self, *, max_age: timedelta, limit: int, batch: int = 500) -> None:
        """Re-read detail and history of non-final invoices not refreshed for ``max_age``."""
        cutoff = _now() - max_age
        terminal = [s.value for s in TERMINAL_STATES]
        ids = raw.invoices_to_refresh(self.wh, final_states=terminal, fetched_before=cutoff, limit=limit)
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            done, failed = await settle(chunk, self._refresh_one)
            for invoice_id, error in failed:
                self._defer(invoice_id, f"state refresh: {error}")
            refreshed = [result for _, result in done]
            store_refreshed(self.wh, refreshed, now=_now())
            self.summary.states_refreshed += len(refreshed)
            self.progress("refreshed", len(refreshed))

    async def _refresh_one(self, invoice_id: str) -> tuple[InvoiceDetail, StateHistory]:
        detail, history = await asyncio.gather(
            self.hub.invoice(invoice_id), fetch_history(self.hub, invoice_id)
        )
        return detail, history

    # ------------------------------------------------------------ backfill

    async def backfill(self, ids: Sequence[str]) -> None:
        """Store invoices handled before rcflow existed (not in the pending list; never acked)."""
        unique = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        for start in range(0, len(unique), 500):  # bounded memory for long id lists
            part = unique[start : start + 500]
            await self._fetch_and_store(part, source="backfill", fetcher=self._fetcher_for(len(part)))
