"""eFACT behind the connector interface (``rcflow.connectors.base.Connector``).

An invoice's bundle is one coroutine, its requests one after the other (detail, Facturae file,
history, each attachment), the file parsed as soon as it is in: the sync runs as many of them as
the client has connections, all on the event loop. eFACT's quirks stay here:
a 2003 is an empty history, a 3007 answering the acknowledgement of an invoice that an
earlier, lost answer already delivered counts as acknowledged (one whose state rcflow does not
know does not: that invoice is deferred), and a state push is validated
against eFACT's payload rules before it is sent (``StateUpdate``). The hub's answers are handed
to the core as its records (``records``). A detail listing one attachment twice (the hub's join
repeating a row) gets it fetched and stored once, the first entry kept; a pending-list entry
without an id is skipped and counted on its page (``PendingPage.skipped``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

from rcflow.connectors.base import (
    Acknowledged,
    EntityRecord,
    FetchedAttachment,
    FetchFailure,
    InvoiceBundle,
    InvoiceRecord,
    LateAttachment,
    LatePage,
    PendingPage,
    PushResult,
    StatePush,
    StateRecord,
    parse_document,
)
from rcflow.connectors.efact.client import HubClient
from rcflow.connectors.efact.errors import HubError, HubStatusError, HubValidationError, PayloadError
from rcflow.connectors.efact.models import AttachmentRef, StateUpdate
from rcflow.connectors.efact.records import (
    acknowledged,
    entity_records,
    invoice_record,
    state_records,
)
from rcflow.connectors.efact.states import DOWNLOADED_STATES, TERMINAL_STATES, State, rank
from rcflow.store import BlobStore

log = logging.getLogger("rcflow.connectors.efact")
T = TypeVar("T")
DELIVERED = StateUpdate.build(State.DELIVERED)


class EfactConnector:
    """The eFACT hub for the core: ``source = "efact"``."""

    source = "efact"
    final_states = frozenset(s.value for s in TERMINAL_STATES)

    def __init__(self, hub: HubClient, store: BlobStore | None):
        """``store``: where downloads go (None: this connector downloads nothing, e.g. the push's)."""
        self.hub, self._store = hub, store
        self.concurrency = hub.concurrency

    @property
    def store(self) -> BlobStore:
        if self._store is None:
            raise RuntimeError("this eFACT connector was opened without a blob store: it cannot download")
        return self._store

    @property
    def requests(self) -> int:
        return self.hub.stats.requests

    @property
    def retries(self) -> int:
        return self.hub.stats.retries

    async def aclose(self) -> None:
        await self.hub.aclose()

    async def entities(self) -> list[EntityRecord]:
        return entity_records(await self.hub.entities())

    async def pending(self, *, nif: str | None = None, office: str | None = None) -> PendingPage:
        """The page's ids; entries without one (it cannot be fetched) are skipped and counted."""
        page = await self.hub.pending_invoices(nif=nif, office=office)
        ids = list(dict.fromkeys(f.id for f in page.factures if f.id))
        skipped = sum(1 for f in page.factures if not f.id)
        if skipped:
            log.warning("%d entries of the pending list have no invoice id: skipped", skipped)
        return PendingPage(ids, page.mesFactures, skipped)

    async def bundle(self, invoice_id: str, fetched_at: datetime) -> InvoiceBundle | FetchFailure:
        return await fetch_bundle(self.hub, self.store, invoice_id, fetched_at)

    async def acknowledge(self, invoice_id: str) -> Acknowledged | FetchFailure:
        return await acknowledge_delivered(self.hub, invoice_id)

    async def refresh(self, invoice_id: str) -> tuple[InvoiceRecord, list[StateRecord]] | FetchFailure:
        hub = self.hub

        async def read() -> tuple[InvoiceRecord, list[StateRecord]]:
            detail = await hub.invoice(invoice_id)
            return invoice_record(detail, invoice_id), state_records(await hub.history(invoice_id))

        return await _failing_softly(invoice_id, read())

    async def history(self, invoice_id: str) -> list[StateRecord]:
        """The ``/estats`` records; raises ``HubError`` when the hub cannot be read."""
        return state_records(await self.hub.history(invoice_id))

    async def push_states(self, updates: Sequence[tuple[str, StatePush]]) -> list[PushResult]:
        """One PATCH per update, all at once (the client bounds the connections)."""
        return list(await asyncio.gather(*(push_one(self.hub, i, u) for i, u in updates)))

    async def late_attachments(self, *, nif: str | None = None, office: str | None = None) -> LatePage:
        page = await self.hub.pending_attachments(nif=nif, office=office)
        unique = {a.idAdjunt: LateAttachment(a.idAdjunt, a.idFactura, a.nom) for a in page.adjunts}
        return LatePage(list(unique.values()), page.mesAdjunts)

    async def fetch_late_attachment(self, item: LateAttachment) -> FetchedAttachment | FetchFailure:
        fetching = fetch_attachment(self.hub, self.store, item.invoice_id, item.attachment_id, item.name)
        return await _failing_softly(item.invoice_id, fetching)

    async def release_late_attachment(self, attachment_id: str) -> None | FetchFailure:
        return await _failing_softly("", self.hub.release_attachment(attachment_id))


async def _failing_softly(invoice_id: str, call: Awaitable[T]) -> T | FetchFailure:
    """``await call``, or the hub's refusal or a transport failure as a ``FetchFailure``."""
    try:
        return await call
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))


async def fetch_attachment(
    hub: HubClient, store: BlobStore, invoice_id: str, attachment_id: str, name: str | None
) -> FetchedAttachment:
    download = await hub.attachment(invoice_id, attachment_id, store, name=name, durable=False)
    return FetchedAttachment(attachment_id, name, download.media_type, download.blob.sha256,
                             download.blob.size)  # fmt: skip


async def fetch_bundle(
    hub: HubClient, store: BlobStore, invoice_id: str, fetched_at: datetime
) -> InvoiceBundle | FetchFailure:
    """Everything for one invoice, or the reason it could not all be fetched."""
    try:
        detail = await hub.invoice(invoice_id)
        xml = await hub.facturae(invoice_id, store, durable=False, keep=True)
        history = await hub.history(invoice_id)
        attachments = [
            await fetch_attachment(hub, store, invoice_id, ref.idAdjunt, ref.nom)
            for ref in unique_attachments(invoice_id, detail.adjunts)
        ]
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))
    return InvoiceBundle(
        invoice_id=invoice_id,
        invoice=invoice_record(detail, invoice_id),
        xml_sha256=xml.blob.sha256,
        states=state_records(history),
        attachments=attachments,
        fetched_at=fetched_at,
        facturae=parse_document(xml.content if xml.content is not None else store.get(xml.blob.sha256)),
    )


def unique_attachments(invoice_id: str, refs: Sequence[AttachmentRef]) -> list[AttachmentRef]:
    """The detail's attachments once each by ``idAdjunt``, the first entry kept; two entries of
    one id that differ (another name) are one attachment too, and the conflict is logged."""
    kept: dict[str, AttachmentRef] = {}
    for ref in refs:
        first = kept.setdefault(ref.idAdjunt, ref)
        if first is not ref and first != ref:
            log.warning(
                "invoice %s lists attachment %s twice, differently (names %r, then %r): kept the first",
                invoice_id, ref.idAdjunt, (first.nom or "")[:80], (ref.nom or "")[:80],
            )  # fmt: skip
    return list(kept.values())


async def acknowledge_delivered(hub: HubClient, invoice_id: str) -> Acknowledged | FetchFailure:
    """``PATCH estat=DELIVERED`` for a stored invoice: the hub's answer, or why not."""
    try:
        return acknowledged(await hub.update_state(invoice_id, DELIVERED), invoice_id)
    except HubValidationError as exc:
        if exc.code == 3007:
            return await _delivered_already(hub, invoice_id, exc)
        return FetchFailure(invoice_id, str(exc))
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))


async def _delivered_already(
    hub: HubClient, invoice_id: str, refused: HubValidationError
) -> Acknowledged | FetchFailure:
    """After a 3007: acknowledged if the re-read detail shows the invoice delivered or further on
    (an earlier attempt's answer was lost); otherwise, or when its state is one rcflow does not
    know, the refusal, and the invoice stays on the hub."""
    try:
        detail = await hub.invoice(invoice_id)
    except HubError as again:
        return FetchFailure(invoice_id, str(again))
    try:
        state = detail.state
    except ValueError:
        unknown = (detail.estat or "")[:60]
        log.warning("invoice %s: acknowledgement refused (3007), hub state %r unknown", invoice_id, unknown)
        reason = f"{refused}; the hub reports state {unknown!r}, unknown to rcflow: not acknowledged"
        return FetchFailure(invoice_id, reason)
    if state is not None and (state in DOWNLOADED_STATES or rank(state) > rank(State.DELIVERED)):
        return acknowledged(detail, invoice_id)
    return FetchFailure(invoice_id, str(refused))


def state_update(push: StatePush) -> StateUpdate:
    """The PATCH payload of a core update; raises ``PayloadError`` with the code eFACT would answer."""
    return StateUpdate.build(
        push.state,
        rcf_number=push.rcf_number,
        reason_code=push.reason_code,
        reason=push.reason,
        payment_date=push.payment_date,
    )


async def push_one(hub: HubClient, invoice_id: str, push: StatePush) -> PushResult:
    """One ``PATCH /factura/:id``, sent once: sent, refused (4xx, or a payload eFACT
    would refuse, then not sent at all), or uncertain (5xx or no answer: it may have applied)."""
    try:
        update = state_update(push)
    except PayloadError as exc:
        return PushResult(invoice_id, "refused", None, str(exc.code), str(exc))
    try:
        await hub.update_state(invoice_id, update)
    except HubStatusError as exc:
        code = None if exc.code is None else str(exc.code)
        outcome = "refused" if exc.status < 500 else "uncertain"
        return PushResult(invoice_id, outcome, exc.status, code, str(exc))
    except HubError as exc:
        return PushResult(invoice_id, "uncertain", None, None, str(exc))
    return PushResult(invoice_id, "sent", 200)
