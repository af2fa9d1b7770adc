"""What the core asks of any invoice hub: the connector interface and the values it returns.

A connector answers, for one hub, in the core's records (``EntityRecord``, ``InvoiceRecord``,
``StateRecord``, ``Acknowledged``, ``PushResult``; states named as ``rcflow.lifecycle`` names
them): the receiving entities; what is pending (a page of ids); one invoice's bundle (its record,
document, attachments and history, the blobs verified and in the store, the Facturae already
parsed; the caller makes a batch's blobs durable with one ``store.sync()``); acknowledge a stored
invoice (eFACT: ``PATCH estat=DELIVERED``; FACe: ``confirmarDescargaFactura``, after which FACe
refuses the download: store first, always); re-read an invoice (record and history) or its
history; push state updates; plus the late attachments some hubs queue apart (FACe has none: an
empty page). Hub quirks (eFACT's 3007 after a lost answer, its payload rules; FACe's 500-item
lists and its 1300 on confirmation) and the translation of the hub's records stay in the connector.

How FACe fits: ``pending`` maps ``solicitarNuevasFacturas`` (at most 500, so ``more`` is
``len == 500``; ``office`` is the oficinaContable whose queue it reads); ``bundle`` maps
``descargarFactura`` (the signed file and its ``anexos`` come in one answer; the history is
``consultarFactura``); ``acknowledge`` maps ``confirmarDescargaFactura`` with the RCF number the
connector assigns; ``push_states`` maps ``cambiarEstadoFactura`` (refusing 1200/1300/3100 as
targets, at most 100 per call); ``late_attachments`` is always an empty page.

Every method is async and may be called concurrently: the connector bounds its own connections.
A hub's refusal or a transport failure of one invoice comes back as a ``FetchFailure`` (the invoice
stays on the hub for the next run) or, for a pushed state, a ``PushResult``; anything else raised
is a bug, a broken store, or (``entities``, ``pending``, ``history``, ``late_attachments``) a hub
that cannot be read at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

from rcflow.facturae import FacturaeDocument, FacturaeRejected, parse_facturae
from rcflow.lifecycle import State

# --------------------------------------------------------------------------- core records
# What a connector hands the core, in the core's terms (rcflow.lifecycle names, the warehouse's
# column meanings). ``raw_json`` is the hub's own record exactly as received (JSON text; a SOAP
# hub's answer turned into JSON), kept for auditors.


@dataclass(frozen=True)
class EntityRecord:
    """A receiving entity (``raw.entities``)."""

    entity_nif: str
    entity_name: str | None
    ine10: str | None
    raw_json: str


@dataclass(frozen=True)
class InvoiceRecord:
    """The hub's record of one invoice (``raw.invoices``; the ids are the hub's, namespaced by
    the connector so two hubs never share one: FACe's are ``face:<numeroRegistro>``)."""

    invoice_id: str
    raw_json: str
    invoice_number: str | None = None
    issue_date: date | None = None
    amount_cents: int | None = None
    supplier_nif: str | None = None
    supplier_name: str | None = None
    entity_nif: str | None = None
    entity_name: str | None = None
    registry_number: str | None = None
    registry_at: datetime | None = None
    rcf_number: str | None = None
    accounting_office: str | None = None
    managing_body: str | None = None
    processing_unit: str | None = None
    hub_state: str | None = None  # a rcflow.lifecycle name (or the hub's, upper-cased, if unknown)
    hub_state_at: datetime | None = None
    reject_code: str | None = None
    reject_reason: str | None = None
    payment_date: date | None = None
    face_registry_number: str | None = None
    face_registry_at: datetime | None = None


@dataclass(frozen=True)
class StateRecord:
    """One entry of an invoice's state history as the hub shows it (``raw.invoice_states``)."""

    state: str  # a rcflow.lifecycle name (or the hub's, upper-cased, if unknown)
    raw_json: str
    state_code: str | None = None  # as the hub sent it
    state_at: datetime | None = None
    registry_number: str | None = None
    registry_at: datetime | None = None
    rcf_number: str | None = None
    reject_code: str | None = None
    reject_reason: str | None = None
    payment_date: date | None = None


@dataclass(frozen=True)
class Acknowledged:
    """The hub's answer to an acknowledgement: the invoice's state now."""

    invoice_id: str
    hub_state: str | None
    hub_state_at: datetime | None
    rcf_number: str | None = None  # FACe: the (provisional) RCF code sent with the confirmation


@dataclass(frozen=True)
class StatePush:
    """One state update rcflow owes the hub, in core terms; the connector translates it.

    ``payload()`` is rcflow's canonical form of the update, stored in ``ops.push_outbox.payload``
    and compared by ``ops.owed_updates`` (a refusal of this very payload holds it back). Its keys
    are eFACT's names, kept for every hub so the outbox reads one way.
    """

    state: State
    rcf_number: str | None = None  # ANNOTATED
    reason_code: str | None = None  # REJECTED
    reason: str | None = None  # REJECTED
    payment_date: date | None = None  # PAID

    def payload(self) -> dict[str, str]:
        body = {"estat": self.state.value}
        if self.rcf_number:
            body["numeroRegistreRCF"] = self.rcf_number
        if self.reason_code:
            body["codiMotiuRebuig"] = self.reason_code
        if self.reason:
            body["descripcioMotiuRebuig"] = self.reason
        if self.payment_date:
            body["dataPagament"] = self.payment_date.isoformat()
        return body


@dataclass(frozen=True)
class PushResult:
    """What the hub said to one ``StatePush``.

    ``sent``: applied. ``refused``: the hub refused this data (never re-sent unchanged; ``status``
    the HTTP status, ``code`` the hub's code). ``uncertain``: no answer, a 5xx or a transport
    failure, so it may have applied: the caller re-reads the history before trying again.
    ``hub_reference``: the hub's own reference of the call that answered, kept in the push audit
    (FACe's ``codigoSeguimiento``, what its support asks for); None when the hub gives none.
    """

    invoice_id: str
    outcome: Literal["sent", "refused", "uncertain"]
    status: int | None = None
    code: str | None = None
    message: str | None = None
    hub_reference: str | None = None


@dataclass(frozen=True)
class CancellationRequest:
    """A supplier's request to cancel an invoice (FACe's anulaciones), as the hub lists it."""

    invoice_id: str
    requested_at: datetime | None
    reason: str | None
    state: Literal["requested", "accepted", "rejected"]
    raw_json: str


@dataclass(frozen=True)
class CreditAssignment:
    """A credit assignment (cesión de crédito) the hub reports for an invoice."""

    invoice_id: str
    state_code: str | None
    description: str | None
    raw_json: str


@dataclass(frozen=True)
class PendingPage:
    """Ids waiting on the hub (deduplicated, in the hub's order); ``more``: the hub holds more;
    ``skipped``: entries of the page the connector could not read an id from (left on the hub)."""

    ids: list[str]
    more: bool
    skipped: int = 0


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
    """Record, Facturae file, attachments and history of one invoice, the blobs in the store
    (durable after the caller's ``store.sync()``).

    ``invoice`` and ``states`` become ``raw.invoices`` / ``raw.invoice_states`` rows;
    ``facturae`` is the parsed file (a document or the ``FacturaeRejected`` that quarantines it),
    parsed where it was fetched (None: the core parses it from the store).
    """

    invoice_id: str
    invoice: InvoiceRecord
    xml_sha256: str
    states: list[StateRecord]
    attachments: list[FetchedAttachment] = field(default_factory=list)
    fetched_at: datetime | None = None
    facturae: FacturaeDocument | FacturaeRejected | None = None


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
    call it beside the download (eFACT's on the event loop, FACe's in its pool), never under the
    writer's lock."""
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

    async def entities(self) -> list[EntityRecord]:
        """The hub's receiving entities."""

    async def pending(self, *, nif: str | None = None, office: str | None = None) -> PendingPage: ...

    async def bundle(self, invoice_id: str, fetched_at: datetime) -> InvoiceBundle | FetchFailure: ...

    async def acknowledge(self, invoice_id: str) -> Acknowledged | FetchFailure:
        """Tell the hub a stored invoice was received; its state now, or why not."""

    async def refresh(self, invoice_id: str) -> tuple[InvoiceRecord, list[StateRecord]] | FetchFailure:
        """The invoice's current record and history, or why not."""

    async def history(self, invoice_id: str) -> list[StateRecord]:
        """The invoice's state history (empty when the hub has none yet); raises when the hub
        cannot be read (the push counts it as unreachable)."""

    async def push_states(self, updates: Sequence[tuple[str, StatePush]]) -> list[PushResult]:
        """Send each (invoice id, update) once, never retried blindly (an ``uncertain`` result:
        the caller re-reads the history); one result per update, in order. Never raises for a
        hub's answer about one invoice."""

    async def late_attachments(self, *, nif: str | None = None, office: str | None = None) -> LatePage: ...

    async def fetch_late_attachment(self, item: LateAttachment) -> FetchedAttachment | FetchFailure: ...

    async def release_late_attachment(self, attachment_id: str) -> None | FetchFailure:
        """Tell the hub a late attachment is stored (eFACT: ``DELETE /adjunts-pendents/:id``)."""

    async def aclose(self) -> None: ...


@runtime_checkable
class PushesInBatches(Protocol):
    """A hub whose state updates go out several per call (FACe); ``Connector.push_states`` is
    the same method, so the core needs no test for it."""

    async def push_states(self, updates: Sequence[tuple[str, StatePush]]) -> list[PushResult]:
        """Send each update once, in one or more hub calls (FACe: ≤ 100 per call); one result
        per update, in order. Never raises for a hub's answer about one invoice."""


@runtime_checkable
class HandlesCancellations(Protocol):
    """A hub where suppliers ask to cancel invoices (FACe); eFACT has no such thing."""

    async def cancellation_requests(self, *, office: str | None = None) -> list[CancellationRequest]:
        """Requests waiting for an answer (every configured office when ``office`` is None)."""

    async def answer_cancellation(self, invoice_id: str, *, accept: bool, comment: str) -> PushResult: ...


@runtime_checkable
class LearnsEntities(Protocol):
    """A hub that lists no entities: its ``entities()`` answers those learnt from the invoices it
    served during the run (FACe: the Facturae buyers), so the sync stores them after the drain too."""

    entities_from_invoices: bool


@runtime_checkable
class ReportsCreditAssignments(Protocol):
    async def credit_assignment(self, invoice_id: str) -> CreditAssignment | None: ...
