"""Fetching everything the hub holds for one invoice, and what went wrong if not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from rcflow.connectors.efact import HubClient, HubError, HubValidationError, State, StateUpdate
from rcflow.connectors.efact.history import fetch_history
from rcflow.connectors.efact.models import AttachmentRef, InvoiceDetail, StateHistory
from rcflow.connectors.efact.states import DOWNLOADED_STATES, rank
from rcflow.store import BlobStore


@dataclass(frozen=True)
class FetchedAttachment:
    attachment_id: str
    name: str | None
    media_type: str | None
    sha256: str
    size: int


@dataclass
class InvoiceBundle:
    """Detail, Facturae file, attachments and history of one invoice, all durably in the store."""

    invoice_id: str
    detail: InvoiceDetail
    xml_sha256: str
    history: StateHistory
    attachments: list[FetchedAttachment] = field(default_factory=list)
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class FetchFailure:
    """Why an invoice was not fetched or not acknowledged; it stays on the hub for the next run."""

    invoice_id: str
    reason: str


DELIVERED = StateUpdate.build(State.DELIVERED)


async def fetch_attachment(
    hub: HubClient, store: BlobStore, invoice_id: str, ref: AttachmentRef
) -> FetchedAttachment:
    download = await hub.attachment(invoice_id, ref.idAdjunt, store, name=ref.nom)
    return FetchedAttachment(
        ref.idAdjunt, ref.nom, download.media_type, download.blob.sha256, download.blob.size
    )


async def fetch_bundle(
    hub: HubClient, store: BlobStore, invoice_id: str, fetched_at: datetime
) -> InvoiceBundle | FetchFailure:
    """Everything for one invoice, or the reason it could not all be fetched (nothing is acked)."""
    try:
        detail = await hub.invoice(invoice_id)
        results = await asyncio.gather(
            hub.facturae(invoice_id, store),
            fetch_history(hub, invoice_id),
            *(fetch_attachment(hub, store, invoice_id, ref) for ref in detail.adjunts),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        xml, history, *attachments = results
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))
    return InvoiceBundle(
        invoice_id=invoice_id,
        detail=detail,
        xml_sha256=xml.blob.sha256,
        history=history,
        attachments=list(attachments),
        fetched_at=fetched_at,
    )


async def acknowledge_delivered(hub: HubClient, invoice_id: str) -> InvoiceDetail | FetchFailure:
    """``PATCH estat=DELIVERED`` for a stored invoice: the hub's answer, or why not."""
    try:
        return await hub.update_state(invoice_id, DELIVERED)
    except HubValidationError as exc:
        if exc.code == 3007:
            # Possibly acknowledged by an earlier attempt whose answer was lost.
            try:
                detail = await hub.invoice(invoice_id)
            except HubError as again:
                return FetchFailure(invoice_id, str(again))
            state = detail.state
            if state is not None and (state in DOWNLOADED_STATES or rank(state) > rank(State.DELIVERED)):
                return detail
        return FetchFailure(invoice_id, str(exc))
    except HubError as exc:
        return FetchFailure(invoice_id, str(exc))
