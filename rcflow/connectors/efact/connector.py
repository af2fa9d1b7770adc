"""eFACT behind the connector interface (``rcflow.connectors.base.Connector``).

An invoice's bundle is fetched in one pool thread, its requests one after the other (detail,
Facturae file, history, each attachment), the file parsed there too: one thread per invoice in
flight keeps every connection busy without a scheduler hop per request. eFACT's quirks stay here:
a 2003 is an empty history, and a 3007 answering the acknowledgement of an invoice that an
earlier, lost answer already delivered counts as acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from rcflow.connectors.base import (
    FetchedAttachment,
    FetchFailure,
    InvoiceBundle,
    LateAttachment,
    LatePage,
    PendingPage,
    parse_document,
)
from rcflow.connectors.efact.client import EfactApi, HubClient
from rcflow.connectors.efact.errors import HubError, HubValidationError
from rcflow.connectors.efact.models import EntityList, InvoiceDetail, StateHistory, StateUpdate
from rcflow.connectors.efact.states import DOWNLOADED_STATES, TERMINAL_STATES, State, rank
from rcflow.store import BlobStore

T = TypeVar("T")
DELIVERED = StateUpdate.build(State.DELIVERED)


class EfactConnector:
    """The eFACT hub for the core: ``source = "efact"``."""

    source = "efact"
    final_states = frozenset(s.value for s in TERMINAL_STATES)

    def __init__(self, hub: HubClient, store: BlobStore):
        self.hub, self.store = hub, store
        self.concurrency = hub.concurrency

    @property
    def requests(self) -> int:
        return self.hub.stats.requests

    @property
    def retries(self) -> int:
        return self.hub.stats.retries

    async def aclose(self) -> None:
        await self.hub.aclose()

    async def entities(self) -> EntityList:
        return await self.hub.entities()

    async def pending(self, *, nif: str | None = None, office: str | None = None) -> PendingPage:
        page = await self.hub.pending_invoices(nif=nif, office=office)
        return PendingPage(list(dict.fromkeys(f.id for f in page.factures)), page.mesFactures)

    async def bundle(self, invoice_id: str, fetched_at: datetime) -> InvoiceBundle | FetchFailure:
        return await self.hub.run(fetch_bundle, self.hub.api, self.store, invoice_id, fetched_at)

    async def acknowledge(self, invoice_id: str) -> InvoiceDetail | FetchFailure:
        return await self.hub.run(acknowledge_delivered, self.hub.api, invoice_id)

    async def refresh(self, invoice_id: str) -> tuple[InvoiceDetail, StateHistory] | FetchFailure:
        api = self.hub.api
        return await self.hub.run(_failing_softly, invoice_id, lambda: (api.invoice(invoice_id),
                                                                        api.history(invoice_id)))  # fmt: skip

    async def history(self, invoice_id: str) -> StateHistory:
        return await self.hub.history(invoice_id)

    async def push_state(self, invoice_id: str, update: StateUpdate) -> InvoiceDetail:
        return await self.hub.update_state(invoice_id, update)

    async def late_attachments(self, *, nif: str | None = None, office: str | None = None) -> LatePage:
        page = await self.hub.pending_attachments(nif=nif, office=office)
        unique = {a.idAdjunt: LateAttachment(a.idAdjunt, a.idFactura, a.nom) for a in page.adjunts}
        return LatePage(list(unique.values()), page.mesAdjunts)

    async def fetch_late_attachment(self, item: LateAttachment) -> FetchedAttachment | FetchFailure:
        api, store = self.hub.api, self.store
        return await self.hub.run(_failing_softly, item.invoice_id, lambda: fetch_attachment(
            api, store, item.invoice_id, item.attachment_id, item.name))  # fmt: skip

    async def release_late_attachment(self, attachment_id: str) -> None | FetchFailure:
        release = self.hub.api.release_attachment
        return await self.hub.run(_failing_softly, "", lambda: release(attachment_id))


def _failing_softly(invoice_id: str, call: Callable[[], T]) -> T | FetchFailure:
    """``call()``, or the hub's refusal or a transport failure as a ``FetchFailure``."""
    try:
        return call()
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))


def fetch_attachment(
    api: EfactApi, store: BlobStore, invoice_id: str, attachment_id: str, name: str | None
) -> FetchedAttachment:
    download = api.attachment(invoice_id, attachment_id, store, name=name, durable=False)
    return FetchedAttachment(attachment_id, name, download.media_type, download.blob.sha256,
                             download.blob.size)  # fmt: skip


def fetch_bundle(
    api: EfactApi, store: BlobStore, invoice_id: str, fetched_at: datetime
) -> InvoiceBundle | FetchFailure:
    """Everything for one invoice, or the reason it could not all be fetched (blocking)."""
    try:
        detail = api.invoice(invoice_id)
        xml = api.facturae(invoice_id, store, durable=False)
        history = api.history(invoice_id)
        attachments = [
            fetch_attachment(api, store, invoice_id, ref.idAdjunt, ref.nom) for ref in detail.adjunts
        ]
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))
    return InvoiceBundle(
        invoice_id=invoice_id,
        detail=detail,
        xml_sha256=xml.blob.sha256,
        history=history,
        attachments=attachments,
        fetched_at=fetched_at,
        facturae=parse_document(store.get(xml.blob.sha256)),
    )


def acknowledge_delivered(api: EfactApi, invoice_id: str) -> InvoiceDetail | FetchFailure:
    """``PATCH estat=DELIVERED`` for a stored invoice: the hub's answer, or why not (blocking)."""
    try:
        return api.update_state(invoice_id, DELIVERED)
    except HubValidationError as exc:
        if exc.code == 3007:
            # Possibly acknowledged by an earlier attempt whose answer was lost.
            try:
                detail = api.invoice(invoice_id)
            except HubError as again:
                return FetchFailure(invoice_id, str(again))
            state = detail.state
            if state is not None and (state in DOWNLOADED_STATES or rank(state) > rank(State.DELIVERED)):
                return detail
        return FetchFailure(invoice_id, str(exc))
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))
