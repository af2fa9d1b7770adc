"""The sync: drain a hub's queues into the warehouse without ever losing an invoice.

Per page of pending invoices, as a stream of batches of 50:

1. the connector fetches each invoice's bundle (record, Facturae file parsed beside its download,
   attachments, history; blobs fsynced), a window of invoices in flight at once;
2. each batch's rows are committed (one DuckDB transaction) — durable;
3. only then is each stored invoice acknowledged to the hub.

The batches overlap (one is acknowledged while the next downloads); the next page is requested
only when every invoice of the page is stored and acknowledged, as the hub's queue requires.

The late-attachment queue (which the hub fills as invoices are acknowledged) is drained alongside
the pages, and once more at the end: its releases overlap the downloads. Every warehouse write
runs in one worker thread at a time, so the event loop never waits for a commit.

One invoice never stops the batch: what cannot be fetched, stored or acknowledged is deferred
(left on the hub, reported in the summary); a pending entry with no id is skipped with a warning;
an acknowledgement that fails unexpectedly for one invoice still lets the batch's other
acknowledgements be recorded.

A crash anywhere leaves, at worst, stored-but-unacknowledged invoices, which the next run finds
in the queue again and re-stores idempotently (upserts keyed on the hub id). Late attachments are
drained the same way: stored, then released on the hub.

This module speaks only to the connector interface (``rcflow.connectors.base``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa

from rcflow.connectors.base import (
    Acknowledged,
    Connector,
    FetchFailure,
    InvoiceBundle,
    LateAttachment,
    PendingPage,
)
from rcflow.ingest.load import record_acknowledged, store_bundles, store_refreshed
from rcflow.ingest.rows import ATTACHMENT_SCHEMA, attachment_row, entity_rows
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse, raw

log = logging.getLogger("rcflow.ingest")
ProgressFn = Callable[[str, int], None]
# Invoices committed in one transaction and then acknowledged together. A batch's commit costs
# about the same CPU for 50 rows as for 200 (a dozen statements, each mostly fixed cost), while
# the last batch of a page holds the next page back until it is committed and acknowledged.
BATCH = 100
# While invoices download, how often the late-attachment queue is looked at again once empty.
ATTACHMENT_POLL = 0.5
T = TypeVar("T")
R = TypeVar("R")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SyncSummary:
    run_id: str
    source: str = ""
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
    cancellation_requests: int = 0  # listed by the hub (FACe), stored
    pending_entries_skipped: int = 0  # listed without an id: they cannot be fetched
    warnings: list[str] = field(default_factory=list)  # reported; the run is still ok
    credit_assignments: int = 0  # invoices with a credit assignment found this run
    deferred: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
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
            ("acknowledged to the hub", self.invoices_acknowledged),
            ("amount of new invoices", f"{self.amount_new_cents / 100:,.2f} €"),
            ("attachments stored with invoices", self.attachments_stored),
            ("late attachments stored", self.late_attachments_stored),
            ("attachments released on the hub", self.attachments_released),
            ("state histories refreshed", self.states_refreshed),
            ("quarantined (kept, flagged)", self.quarantined),
            ("cancellation requests listed", self.cancellation_requests),
            ("pending entries skipped (no id)", self.pending_entries_skipped),
            ("credit assignments found", self.credit_assignments),
            ("deferred to the next run", len(self.deferred)),
            ("hub requests / retried", f"{self.requests} / {self.retries}"),
            ("time", f"{self.seconds:.1f} s"),
        ]


def _skipped_warning(count: int) -> str:
    return f"{count} entries of the pending list have no invoice id: skipped, they stay on the hub"


def _noop(kind: str, n: int) -> None:
    pass


async def _settle(
    items: Sequence[T], call: Callable[[T], Awaitable[R | FetchFailure]], lanes: int
) -> tuple[list[tuple[T, R]], list[tuple[T, FetchFailure]]]:
    """``call(item)`` for every item, ``lanes`` at a time (about the connector's connections):
    that many coroutines take the next item as each call ends, rather than a task per item."""
    results: list[R | FetchFailure] = [None] * len(items)  # type: ignore[list-item]
    todo = iter(enumerate(items))

    async def lane() -> None:
        for k, item in todo:
            results[k] = await call(item)

    await asyncio.gather(*(lane() for _ in range(min(lanes, len(items)))))
    done = [(i, r) for i, r in zip(items, results, strict=True) if not isinstance(r, FetchFailure)]
    failed = [(i, r) for i, r in zip(items, results, strict=True) if isinstance(r, FetchFailure)]
    return done, failed  # type: ignore[return-value]


@dataclass(frozen=True)
class _Raised:
    """A lane's unexpected exception, handed to the consumer to raise."""

    error: BaseException


class Syncer:
    """One sync run against one hub (through its connector) and one warehouse."""

    def __init__(
        self,
        hub: Connector,
        wh: Warehouse,
        store: BlobStore,
        summary: SyncSummary,
        *,
        progress: ProgressFn | None = None,
        window: int = 16,
    ):
        """``window``: invoices fetched at once (about the connector's connection count)."""
        self.hub, self.wh, self.store, self.summary = hub, wh, store, summary
        self.summary.source = hub.source
        self.progress = progress or _noop
        self.window = max(1, window)
        # One DuckDB connection: writes run in a worker thread, one at a time.
        self._writer = asyncio.Lock()

    async def entities(self) -> None:
        rows = entity_rows(await self.hub.entities(), _now())
        raw.store_entities(self.wh, rows, source=self.hub.source)
        self.summary.entities = rows.num_rows

    async def _in_writer(self, call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``call`` on the warehouse in a worker thread, one at a time: the event loop never
        waits for a commit in flight."""
        async with self._writer:
            return await asyncio.to_thread(call, *args, **kwargs)

    async def drain(self, *, nif: str | None = None, office: str | None = None) -> None:
        """Pending invoices, with the late-attachment queue drained alongside (its releases
        overlap the downloads; the hub queues an invoice's attachments once it is acknowledged),
        then once more when the invoices are done."""
        invoices_done = asyncio.Event()

        async def alongside() -> None:
            while not invoices_done.is_set() and self.summary.stopped_early is None:
                await self.drain_attachments(nif=nif, office=office)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(invoices_done.wait(), ATTACHMENT_POLL)

        with _lean(self.wh):
            side = asyncio.create_task(alongside())
            try:
                await self.drain_invoices(nif=nif, office=office)
                invoices_done.set()
                await side
            finally:
                await _cancel([side])
            await self.drain_attachments(nif=nif, office=office)

    # ------------------------------------------------------------ pending invoices

    async def drain_invoices(self, *, nif: str | None = None, office: str | None = None) -> None:
        stored_this_run: set[str] = set()
        seen: set[str] = set()
        while True:
            page = await self.hub.pending(nif=nif, office=office)
            self.summary.pages += 1
            self._count_skipped(page)
            if not page.ids:
                return
            fresh = [i for i in page.ids if i not in seen]
            seen.update(page.ids)
            acked = await self._process_page(page.ids, stored_this_run)
            if not page.more:
                return
            if not fresh:
                self.summary.stopped_early = (
                    f"the hub keeps listing the same {len(page.ids)} invoices although they were "
                    "stored (rejected or not acknowledgeable there); stopped instead of looping — "
                    "ask the hub's support, and shard with --nif/--office meanwhile"
                )
                return
            if acked == 0:
                self.summary.stopped_early = (
                    f"the pending queue did not move: {len(page.ids)} invoices could not be stored "
                    "or acknowledged; they stay on the hub for the next run"
                )
                return

    def _count_skipped(self, page: PendingPage) -> None:
        """Entries the connector could not read off the page (``page.skipped``: no id): warned
        about, the rest of the page processed. They stay at the head of the queue, so every page
        lists them again: the count is the most on one page."""
        skipped = page.skipped
        if skipped <= self.summary.pending_entries_skipped:
            return
        old = _skipped_warning(self.summary.pending_entries_skipped)
        self.summary.warnings = [w for w in self.summary.warnings if w != old]
        self.summary.warnings.append(_skipped_warning(skipped))
        self.summary.pending_entries_skipped = skipped

    async def _process_page(self, ids: list[str], stored_this_run: set[str]) -> int:
        """Fetch, store and acknowledge one page as a stream (see ``_fetch_and_store``)."""
        # Stored earlier in this run but listed again (their acknowledgement failed): ack only.
        again = [i for i in ids if i in stored_this_run]
        todo = [i for i in ids if i not in stored_this_run]

        async def acknowledge(bundles: list[InvoiceBundle]) -> int:
            stored_this_run.update(b.invoice_id for b in bundles)
            return await self._acknowledge_stored([b.invoice_id for b in bundles])

        acked = await self._fetch_and_store(todo, source="pending", then=acknowledge)
        return acked + await self._acknowledge_stored(again)

    async def _fetch_and_store(
        self,
        ids: Sequence[str],
        *,
        source: str,
        then: Callable[[list[InvoiceBundle]], Awaitable[int]] | None = None,
    ) -> int:
        """Fetch every invoice's bundle; commit them in batches as they complete, then ``then``.

        Each batch of ``BATCH`` complete bundles is committed (one transaction) while the next
        ones download, then handed to ``then`` (the acknowledgement). Failures are deferred.
        Near the end, a batch is closed once every bundle still to come is in flight (no more
        than a window's worth) and it holds at least as many: the last batch, whose commit and
        acknowledgements hold the next page back, stays within a window, and a page of 500
        takes six commits (100 × 4, 84, 16), not eight (halving tail batches of 50, 25, 16 and
        9; a commit's CPU is mostly fixed). Returns the sum of what ``then`` returned.
        """
        now = _now()

        async def commit(bundles: list[InvoiceBundle]) -> int:
            await self._store(bundles, source=source, now=now)
            return await then(bundles) if then is not None else 0

        commits: list[asyncio.Task[int]] = []
        try:
            batch: list[InvoiceBundle] = []
            left = len(ids)
            async for result in self._bundles(ids, now):
                left -= 1
                if isinstance(result, FetchFailure):
                    self._defer(result.invoice_id, result.reason)
                    continue
                batch.append(result)
                if len(batch) >= BATCH or (left <= self.window and len(batch) >= left):
                    commits.append(asyncio.create_task(commit(batch)))
                    batch = []
            if batch:
                commits.append(asyncio.create_task(commit(batch)))
            return sum(await asyncio.gather(*commits))
        finally:
            await _cancel(commits)

    async def _bundles(
        self, ids: Sequence[str], fetched_at: datetime
    ) -> AsyncIterator[InvoiceBundle | FetchFailure]:
        """Bundles as they complete, ``window`` invoices in flight (that many coroutines each
        take the next id as one ends): acknowledgements queue behind at most a window of
        downloads, never behind a whole page."""
        todo = iter(ids)
        done: asyncio.Queue[InvoiceBundle | FetchFailure | _Raised] = asyncio.Queue()

        async def lane() -> None:
            try:
                for invoice_id in todo:
                    done.put_nowait(await self.hub.bundle(invoice_id, fetched_at))
            except Exception as exc:  # a bug or a broken store: raised to the consumer
                done.put_nowait(_Raised(exc))

        lanes = [asyncio.create_task(lane()) for _ in range(min(self.window, len(ids)))]
        try:
            for _ in ids:
                result = await done.get()
                if isinstance(result, _Raised):
                    raise result.error
                yield result
        finally:
            await _cancel(lanes)

    async def _store(self, bundles: list[InvoiceBundle], *, source: str, now: datetime) -> None:
        """Make the bundles' blobs durable, then commit their rows (one transaction)."""
        new_ids, quarantined = await self._in_writer(self._durably, bundles, source, now)
        self.summary.invoices_seen += len(bundles)
        self.summary.invoices_new += len(new_ids)
        self.summary.quarantined += len(quarantined)
        self.summary.attachments_stored += sum(len(b.attachments) for b in bundles)
        self.summary.amount_new_cents += sum(
            b.invoice.amount_cents or 0 for b in bundles if b.invoice_id in new_ids
        )
        self.progress("invoices", len(bundles))

    def _durably(
        self, bundles: list[InvoiceBundle], source: str, now: datetime
    ) -> tuple[set[str], list[str]]:
        self.store.sync()  # one flush for the whole batch's blobs, before any row refers to them
        stored = store_bundles(self.wh, self.store, bundles, source=source, now=now, hub=self.hub.source)
        self.wh.release_cached_blocks()  # DuckDB's cache of what it stored: bounded, however long the queue
        return stored

    async def _acknowledge_stored(self, ids: Sequence[str]) -> int:
        """Durable: now, and only now, acknowledge and record it."""
        if not ids:
            return 0
        done, failed = await _settle(ids, self._acknowledge_one, self.window)
        for _, failure in failed:
            self._defer(failure.invoice_id, failure.reason)
        acked = [answer for _, answer in done]
        await self._in_writer(record_acknowledged, self.wh, acked, now=_now())
        self.summary.invoices_acknowledged += len(acked)
        return len(acked)

    async def _acknowledge_one(self, invoice_id: str) -> Acknowledged | FetchFailure:
        """The connector's acknowledgement; an error it raises for this invoice (a bug, an answer
        it could not read) defers the invoice instead of losing the batch's other answers."""
        try:
            return await self.hub.acknowledge(invoice_id)
        except Exception as exc:
            log.warning("acknowledgement of %s failed unexpectedly: %s", invoice_id, exc)
            log.debug("acknowledgement of %s", invoice_id, exc_info=True)
            return FetchFailure(invoice_id, f"acknowledgement failed: {type(exc).__name__}: {str(exc)[:200]}")

    def _defer(self, invoice_id: str, reason: str) -> None:
        """Left on the hub for the next run: nothing was acknowledged for it."""
        self.summary.deferred.append({"invoice_id": invoice_id, "reason": reason})

    # ------------------------------------------------------------ late attachments

    async def drain_attachments(self, *, nif: str | None = None, office: str | None = None) -> None:
        while True:
            page = await self.hub.late_attachments(nif=nif, office=office)
            if not page.items:
                return
            released = await self._process_attachment_page(page.items)
            if not page.more:
                return
            if released == 0:
                self.summary.stopped_early = (
                    f"the attachment queue did not move: {len(page.items)} attachments could not be "
                    "stored or released; they stay on the hub for the next run"
                )
                return

    async def _process_attachment_page(self, items: list[LateAttachment]) -> int:
        ids = [a.attachment_id for a in items]
        known = await self._in_writer(raw.known_ids, self.wh, "raw.attachments", "attachment_id", ids)
        todo = [a for a in items if a.attachment_id not in known]
        now = _now()
        fetched, failed = await _settle(todo, self.hub.fetch_late_attachment, self.window)
        for item, failure in failed:
            self._defer(item.invoice_id, f"attachment {item.attachment_id}: {failure.reason}")
        rows = [attachment_row(a.invoice_id, got, source="pending", fetched_at=now) for a, got in fetched]
        if rows:
            await self._in_writer(self.store.sync)  # durable before any row refers to them
        await self._in_writer(
            raw.store_attachments,
            self.wh,
            pa.Table.from_pylist(rows, schema=ATTACHMENT_SCHEMA),
            source=self.hub.source,
        )
        self.summary.late_attachments_stored += len(rows)
        self.progress("attachments", len(rows))
        # Durable: now release them on the hub.
        stored = known | {a.attachment_id for a, _ in fetched}
        done, failed_release = await _settle(
            [i for i in ids if i in stored], self.hub.release_late_attachment, self.window
        )
        for attachment_id, failure in failed_release:
            self._defer("", f"release of attachment {attachment_id}: {failure.reason}")
        released = [attachment_id for attachment_id, _ in done]
        await self._in_writer(raw.mark_attachments_released, self.wh, released, now=_now())
        self.summary.attachments_released += len(released)
        return len(released)

    # ------------------------------------------------------------ state refresh

    async def refresh_states(self, *, max_age: timedelta, limit: int, batch: int = 500) -> None:
        """Re-read the record and history of non-final invoices not refreshed for ``max_age``."""
        cutoff = _now() - max_age
        ids = raw.invoices_to_refresh(
            self.wh, final_states=sorted(self.hub.final_states), fetched_before=cutoff, limit=limit,
            source=self.hub.source,
        )  # fmt: skip
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            done, failed = await _settle(chunk, self.hub.refresh, self.window)
            for invoice_id, failure in failed:
                self._defer(invoice_id, f"state refresh: {failure.reason}")
            refreshed = [result for _, result in done]
            store_refreshed(self.wh, refreshed, now=_now(), hub=self.hub.source)
            self.wh.release_cached_blocks()
            self.summary.states_refreshed += len(refreshed)
            self.progress("refreshed", len(refreshed))

    # ------------------------------------------------------------ backfill

    async def backfill(self, ids: Sequence[str]) -> None:
        """Store invoices handled before rcflow existed (not in the pending list; never acked)."""
        unique = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        for start in range(0, len(unique), 500):  # bounded memory for long id lists
            await self._fetch_and_store(unique[start : start + 500], source="backfill")


@contextlib.contextmanager
def _lean(wh: Warehouse) -> Iterator[None]:
    """While a drain runs: DuckDB runs each statement in the calling thread (the sync's are
    small: worker threads would only add wake-ups, about a quarter of a commit's CPU), and the
    garbage collector leaves the objects of the start-up alone (``gc.freeze``). Both undone."""
    with wh.reading() as con:
        threads = con.execute("select current_setting('threads')").fetchall()[0][0]
        con.execute("set threads = 1")
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        with wh.reading() as con:
            con.execute(f"set threads = {int(threads)}")


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()  # no-op for finished ones
    await asyncio.gather(*tasks, return_exceptions=True)  # and every error retrieved
