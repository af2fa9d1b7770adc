"""The sync: drain the hub's queues into the warehouse without ever losing an invoice.

Per page of at most 500 pending invoices:

1. fetch detail, Facturae file, attachments and state history of each (bounded concurrency);
2. write blobs (fsynced) and rows (one DuckDB transaction) — durable;
3. only then acknowledge each stored invoice with ``PATCH estat=DELIVERED``.

A crash anywhere leaves, at worst, stored-but-unacknowledged invoices, which the next run finds
in the queue again and re-stores idempotently (upserts keyed on the hub id). Late attachments are
drained the same way: stored, then released with ``DELETE /adjunts-pendents/:id``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from rcflow.hub import HubClient, HubError, HubValidationError, State, StateUpdate
from rcflow.hub.models import InvoiceDetail, PendingAttachment, StateHistory
from rcflow.hub.settle import settle
from rcflow.hub.states import DOWNLOADED_STATES, TERMINAL_STATES, rank
from rcflow.ingest.bundle import (
    FetchFailure,
    InvoiceBundle,
    fetch_attachment,
    fetch_bundle,
    fetch_history,
)
from rcflow.ingest.load import existing_ids, record_acknowledged, store_bundles, store_refreshed
from rcflow.ingest.rows import ATTACHMENT_SCHEMA, attachment_row, entity_rows
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse

ProgressFn = Callable[[str, int], None]
DELIVERED = StateUpdate.build(State.DELIVERED)
# Invoices fetched, stored and acknowledged together; chunks of a page overlap in time.
CHUNK = 50


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
    ):
        self.hub, self.wh, self.store, self.summary = hub, wh, store, summary
        self.progress = progress or _noop
        # One DuckDB connection: writes run in a worker thread, one at a time.
        self._writer = asyncio.Lock()

    async def entities(self) -> None:
        listing = await self.hub.entities()
        with self.wh.transaction():
            self.wh.upsert("raw.entities", entity_rows(listing, _now()), ["entity_nif"])
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
        """Fetch, store, acknowledge, in chunks that overlap: the network never waits on a write."""
        chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        acked = await asyncio.gather(*(self._process_chunk(c, stored_this_run) for c in chunks))
        return sum(acked)

    async def _fetch_and_store(self, ids: Sequence[str], *, source: str) -> list[InvoiceBundle]:
        """Fetch every invoice's bundle and commit the complete ones; failures are deferred."""
        now = _now()
        results = await asyncio.gather(*(fetch_bundle(self.hub, self.store, i, now) for i in ids))
        bundles = [r for r in results if isinstance(r, InvoiceBundle)]
        for failure in (r for r in results if isinstance(r, FetchFailure)):
            self._defer(failure.invoice_id, failure.reason)
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
        return bundles

    async def _process_chunk(self, ids: list[str], stored_this_run: set[str]) -> int:
        to_fetch = [i for i in ids if i not in stored_this_run]
        bundles = await self._fetch_and_store(to_fetch, source="pending")
        stored_this_run.update(b.invoice_id for b in bundles)
        # Durable: now, and only now, acknowledge.
        ready = [i for i in ids if i in stored_this_run]
        acked = await self._acknowledge(ready)
        async with self._writer:
            await asyncio.to_thread(record_acknowledged, self.wh, acked, now=_now())
        self.summary.invoices_acknowledged += len(acked)
        return len(acked)

    async def _acknowledge(self, ids: Sequence[str]) -> list[InvoiceDetail]:
        results = await asyncio.gather(*(self._ack_one(i) for i in ids))
        return [r for r in results if r is not None]

    async def _ack_one(self, invoice_id: str) -> InvoiceDetail | None:
        try:
            return await self.hub.update_state(invoice_id, DELIVERED)
        except HubValidationError as exc:
            if exc.code == 3007:
                # Possibly acknowledged by an earlier attempt whose answer was lost.
                try:
                    detail = await self.hub.invoice(invoice_id)
                except HubError as again:
                    self._defer(invoice_id, str(again))
                    return None
                state = detail.state
                if state is not None and (state in DOWNLOADED_STATES or rank(state) > rank(State.DELIVERED)):
                    return detail
            self._defer(invoice_id, str(exc))
        except HubError as exc:
            self._defer(invoice_id, str(exc))
        return None

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
        known = existing_ids(self.wh, "raw.attachments", "attachment_id", [a.idAdjunt for a in items])
        todo = [a for a in items if a.idAdjunt not in known]
        now = _now()
        fetched, failed = await settle(todo, lambda a: fetch_attachment(self.hub, self.store, a.idFactura, a))
        for item, error in failed:
            self._defer(item.idFactura, f"attachment {item.idAdjunt}: {error}")
        rows = [attachment_row(a.idFactura, got, source="pending", fetched_at=now) for a, got in fetched]
        stored = known | {a.idAdjunt for a, _ in fetched}
        if rows:
            with self.wh.transaction():
                self.wh.upsert(
                    "raw.attachments",
                    pa.Table.from_pylist(rows, schema=ATTACHMENT_SCHEMA),
                    ["attachment_id"],
                )
        self.summary.late_attachments_stored += len(rows)
        self.progress("attachments", len(rows))
        # Durable: now release them on the hub.
        to_release = [a.idAdjunt for a in items if a.idAdjunt in stored]
        done, failed = await settle(to_release, self.hub.release_attachment)
        for attachment_id, error in failed:
            self._defer("", f"release of attachment {attachment_id}: {error}")
        released = [attachment_id for attachment_id, _ in done]
        if released:
            released_ids = pa.table({"id": pa.array(released, pa.string())})
            with self.wh.registered("_rcflow_rel", released_ids), self.wh.transaction() as con:
                con.execute(
                    "update raw.attachments set released_at = ?"
                    " where attachment_id in (select id from _rcflow_rel)",
                    [_now()],
                )
        self.summary.attachments_released += len(released)
        return len(released)

    # ------------------------------------------------------------ state refresh

    async def refresh_states(self, *, max_age: timedelta, limit: int, batch: int = 500) -> None:
        """Re-read detail and history of non-final invoices not refreshed for ``max_age``."""
        cutoff = _now() - max_age
        terminal = [s.value for s in TERMINAL_STATES]
        ids = [
            r[0]
            for r in self.wh.con.execute(
                "select invoice_id from raw.invoices"
                " where coalesce(hub_state, '') not in (select unnest(?::varchar[]))"
                " and fetched_at < ? order by fetched_at limit ?",
                [terminal, cutoff, limit],
            ).fetchall()
        ]
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
        for start in range(0, len(unique), 500):
            await self._fetch_and_store(unique[start : start + 500], source="backfill")
