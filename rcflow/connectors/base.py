"""What the core asks of any invoice hub: the connector interface and the values it returns.

A connector answers, for one hub: what is pending (a page of ids); fetch one invoice's bundle
(detail, document, attachments and history, the blobs verified and in the store, the Facturae
already parsed; the caller makes a batch's blobs durable with one ``store.sync()``); acknowledge
a stored invoice (eFACT: ``PATCH estat=DELIVERED``; FACe: ``confirmarDescargaFactura``, after
which FACe refuses the download: store first, always); push a state; read a history; plus the
late attachments some hubs queue apart (FACe has none: an empty page). Hub quirks (eFACT's 3007
after a lost answer, FACe's 500-item lists and its 1300 on confirmation) stay in the connector.

How FACe fits: ``pending`` maps ``solicitarNuevasFacturas`` (at most 500, so ``more`` is
``len == 500``; ``office`` is the oficinaContable whose queue it reads); ``bundle`` maps
``descargarFactura`` (the signed file and its ``anexos`` come in one answer; the history is
``consultarFactura``); ``acknowledge`` maps ``confirmarDescargaFactura`` with the RCF number the
connector assigns; ``push_state`` maps ``cambiarEstadoFactura`` (refusing 1200/1300/3100 as
targets); ``late_attachments`` is always an empty page.

Every method is async and may be called concurrently: the connector bounds its own connections.
A hub's refusal or a transport failure of one invoice comes back as a ``FetchFailure`` (the invoice
stays on the hub for the next run); anything else raised is a bug or a broken store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from rcflow.facturae import FacturaeDocument, FacturaeRejected, parse_facturae


@dataclass(frozen=True)
class PendingPage:
    """Ids waiting on the hub (deduplicated, in the hub's order); ``more``: the hub holds more."""

    ids: list[str]
    more: bool


@dataclass(frozen=True)
class FetchedAttachment:
    """An attachment in the blob store (durable after the caller's ``store.sync()``)."""

    attachment_id: str
    name: str | None
    media_type: str | None
    sha256: str
    size: int


@dataclass
class InvoiceBundle:
    """Detail, Facturae file, attachments and history of one invoice, the blobs in the store
    (durable after the caller's ``store.sync()``).

    ``detail`` and ``history`` are the hub's own records, which the warehouse's row builders map
    to ``raw.invoices`` / ``raw.invoice_states``; ``facturae`` is the parsed file (a document or
    the ``FacturaeRejected`` that quarantines it), parsed where it was fetched.
    """

    invoice_id: str
    detail: Any
    xml_sha256: str
    history: Any
    attachments: list[FetchedAttachment] = field(default_factory=list)
    fetched_at: datetime | None = None
    facturae: Any = None


@dataclass(frozen=True)
class FetchFailure:
    """Why an invoice was not fetched or not acknowledged; it stays on the hub for the next run."""

    invoice_id: str
    reason: str


@dataclass(frozen=True)
class LateAttachment:
    """An attachment the hub queued after its invoice was delivered."""

    attachment_id: str
    invoice_id: str
    name: str | None


@dataclass(frozen=True)
class LatePage:
    items: list[LateAttachment]
    more: bool


def parse_document(data: bytes) -> FacturaeDocument | FacturaeRejected:
    """A Facturae file parsed, or the rejection that quarantines it (never raised): connectors
    call it beside the download, so parsing runs in their threads, not under the writer's lock."""
    try:
        return parse_facturae(data)
    except FacturaeRejected as rejected:
        return rejected


class Connector(Protocol):
    """One invoice hub, as the core sees it (see the module docstring)."""

    source: str  # stored with every row: "efact", "face"
    final_states: frozenset[str]  # state names (as stored) after which an invoice never changes

    @property
    def requests(self) -> int: ...

    @property
    def retries(self) -> int: ...

    async def entities(self) -> Any:
        """The hub's list of receiving entities (its own records)."""

    async def pending(self, *, nif: str | None = None, office: str | None = None) -> PendingPage: ...

    async def bundle(self, invoice_id: str, fetched_at: datetime) -> InvoiceBundle | FetchFailure: ...

    async def acknowledge(self, invoice_id: str) -> Any | FetchFailure:
        """Tell the hub a stored invoice was received; its answer (the hub's record) or why not."""

    async def refresh(self, invoice_id: str) -> tuple[Any, Any] | FetchFailure:
        """The invoice's current detail and history, or why not."""

    async def history(self, invoice_id: str) -> Any:
        """The invoice's state history (empty when the hub has none yet)."""

    async def push_state(self, invoice_id: str, update: Any) -> Any:
        """Send one state update, once (never retried blindly: re-read the history instead)."""

    async def late_attachments(self, *, nif: str | None = None, office: str | None = None) -> LatePage: ...

    async def fetch_late_attachment(self, item: LateAttachment) -> FetchedAttachment | FetchFailure: ...

    async def release_late_attachment(self, attachment_id: str) -> None | FetchFailure:
        """Tell the hub a late attachment is stored (eFACT: ``DELETE /adjunts-pendents/:id``)."""

    async def aclose(self) -> None: ...
