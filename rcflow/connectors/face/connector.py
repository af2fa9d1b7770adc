"""FACe behind the connector interface (``rcflow.connectors.base``): ``source = "face"``.

FACe's quirks stay here:

* the queue is per accounting office: ``pending`` asks every configured office (or, with none
  configured, every office ``consultarUnidades`` lists) and remembers each invoice's office,
  which ``confirmarDescargaFactura`` and the state changes need;
* ``descargarFactura`` answers the signed Facturae (``.xsig``: a Facturae XML with an enveloped
  XAdES signature, parsed as it is; an enveloping one, whose root is ``ds:Signature``, has its
  Facturae taken out of ``ds:Object`` for parsing) and every annex in one answer; the document
  and annexes are written to the store non-durably (the caller's ``store.sync()`` makes a batch
  durable) and the file is parsed there, in the client's CPU pool;
* confirmation needs an RCF code: the provisional ``RCFLOW-<numeroRegistro>``
  (:func:`records.provisional_rcf`), corrected when the accounting's ANNOTATED is pushed
  (``cambiarCodigoRCF``). A confirmed invoice can no longer be downloaded: the sync confirms only
  what it stored, and a 502/505 to a re-confirmation whose first answer was lost counts as
  acknowledged once ``consultarFactura`` shows the invoice past 1200;
* ``consultarFactura`` shows the current processing and cancellation states, not a history;
* FACe has no late attachments: an empty page, and nothing to fetch or release.

The accounting office of an invoice this connector has not listed (a push in a later process)
comes from ``office_of`` (e.g. a warehouse lookup), else from the only configured office.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from rcflow.connectors.base import (
    Acknowledged,
    CancellationRequest,
    CreditAssignment,
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
from rcflow.connectors.face import records
from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.codes import MAX_CHANGE_BATCH, Range, result_range
from rcflow.connectors.face.codes import State as Code
from rcflow.connectors.face.errors import (
    FaceAlreadyConfirmed,
    FaceBusinessError,
    FaceError,
    FaceFault,
    FaceHttpError,
    FaceNoInvoices,
    FaceRequestError,
    FaceResultError,
    FaceTransitionRefused,
    FaceTransportError,
)
from rcflow.connectors.face.models import (
    CancellationAnswer,
    DownloadedInvoice,
    InvoiceStatus,
    ItemResult,
    NewInvoice,
    StateChange,
)
from rcflow.connectors.face.settings import FaceSettings
from rcflow.facturae import FacturaeDocument, FacturaeRejected
from rcflow.lifecycle import FINAL_STATES, State
from rcflow.store import BlobStore

DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
_SIGNATURE_ROOT = re.compile(
    rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<([\w.-]+:)?Signature[\s>]", re.DOTALL
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
OfficeLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class _Stored:
    xml_sha256: str
    attachments: list[FetchedAttachment]
    annexes_json: list[dict[str, Any]]
    document: FacturaeDocument | FacturaeRejected


class FaceConnector:
    """The FACe hub for the core; ``store`` None: a connector that downloads nothing (the push's)."""

    source = "face"
    final_states = frozenset(s.value for s in FINAL_STATES)
    entities_from_invoices = True  # entities() answers the buyers of the invoices it fetched

    def __init__(
        self,
        client: FaceClient,
        store: BlobStore | None,
        *,
        offices: Sequence[str] = (),
        office_of: OfficeLookup | None = None,
    ):
        self.client, self.store = client, store
        self.offices = tuple(dict.fromkeys(o.strip().upper() for o in offices if o.strip()))
        self.office_of = office_of
        self.concurrency = client.concurrency
        self._listed: dict[str, NewInvoice] = {}  # numeroRegistro -> its new-invoice row
        self._office: dict[str, str] = {}  # numeroRegistro -> oficinaContable
        self._entities: dict[str, EntityRecord] = {}
        self._unit_offices: tuple[str, ...] | None = None

    @classmethod
    def from_settings(
        cls, settings: FaceSettings, store: BlobStore | None, *, office_of: OfficeLookup | None = None
    ) -> FaceConnector:
        return cls(FaceClient.from_settings(settings), store, offices=settings.offices, office_of=office_of)

    def __repr__(self) -> str:
        return f"FaceConnector({self.client!r}, offices={list(self.offices)})"

    @property
    def requests(self) -> int:
        return self.client.stats.calls

    @property
    def retries(self) -> int:
        return self.client.stats.retries

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ reading

    async def entities(self) -> list[EntityRecord]:
        """The receiving entities learnt from the Facturae buyers this connector has fetched.

        FACe lists DIR3 units (``consultarUnidades``), never an entity's NIF or name, so there is
        nothing to ask up front; the invoices' rows carry the buyer NIF and name anyway."""
        return list(self._entities.values())

    async def pending(self, *, nif: str | None = None, office: str | None = None) -> PendingPage:
        """``solicitarNuevasFacturas`` for ``office`` or every office drained (FACe cannot filter
        by NIF: ``nif`` is ignored); ``more`` when any office answered the 500 cap."""
        offices = [office.strip().upper()] if office else await self._drain_offices()
        pages = await asyncio.gather(*(self._new_invoices(o) for o in offices))
        ids: list[str] = []
        for rows, _ in pages:
            for row in rows:
                self._listed[row.registry_number] = row
                self._office[row.registry_number] = row.accounting_office
                ids.append(records.invoice_id(row.registry_number))
        return PendingPage(list(dict.fromkeys(ids)), any(capped for _, capped in pages))

    async def _new_invoices(self, office: str) -> tuple[list[NewInvoice], bool]:
        try:
            page = await self.client.new_invoices(office)
        except FaceNoInvoices:  # 501: nothing for this office
            return [], False
        return page.invoices, page.capped

    async def _drain_offices(self) -> list[str]:
        if self.offices:
            return list(self.offices)
        if self._unit_offices is None:
            units = await self.client.units()
            self._unit_offices = tuple(dict.fromkeys(u.accounting_office.code for u in units))
        return list(self._unit_offices)

    async def bundle(self, invoice_id: str, fetched_at: datetime) -> InvoiceBundle | FetchFailure:
        """``descargarFactura`` (file and annexes into the store, the file parsed) and
        ``consultarFactura`` (the states), or why not: the invoice stays in 1200 on FACe."""
        try:
            registry = records.registry_number(invoice_id)
        except ValueError as exc:
            return FetchFailure(invoice_id, str(exc))
        invoice_id = records.invoice_id(registry)
        try:
            download = await self.client.download(registry)
            stored, (status, rcf_code) = await asyncio.gather(
                self.client.blocking(self._store_download, download), self._status(registry)
            )
        except FaceError as exc:
            return FetchFailure(invoice_id, str(exc))
        listing = self._listed.get(registry)
        states = records.state_records(status, rcf_code=rcf_code, listing=listing)
        invoice = records.invoice_record(
            registry,
            listing=listing,
            download=download,
            annexes=stored.annexes_json,
            document=stored.document,
            status=status,
            states=states,
            rcf_code=rcf_code,
        )
        units = records.units_of(listing, stored.document)
        if units.office and registry not in self._office:
            self._office[registry] = units.office
        entity = records.buyer_entity(stored.document, units)
        if entity is not None:
            self._entities.setdefault(entity.entity_nif, entity)
        return InvoiceBundle(
            invoice_id=invoice_id,
            xml_sha256=stored.xml_sha256,
            attachments=stored.attachments,
            fetched_at=fetched_at,
            facturae=stored.document,
            invoice=invoice,
            states=states,
        )

    def _store_download(self, download: DownloadedInvoice) -> _Stored:
        """The file and each annex in the store (non-durable), the file parsed (blocking)."""
        xml = self._put(download.document)
        attachments, annexes_json = [], []
        for index, annex in enumerate(download.annexes):
            blob = self._put(annex.content)
            attachment_id = records.annex_id(download.registry_number, index)
            attachments.append(
                FetchedAttachment(attachment_id, annex.name, annex.media_type, blob.sha256, blob.size)
            )
            annexes_json.append(
                {"nombre": annex.name, "mime": annex.media_type, "sha256": blob.sha256, "bytes": blob.size}
            )
        return _Stored(xml.sha256, attachments, annexes_json, parse_signed_facturae(download.document))

    def _put(self, data: bytes) -> Any:
        if self.store is None:
            raise RuntimeError("this FACe connector has no blob store (a push's): it cannot download")
        writer = self.store.writer()
        try:
            writer.write(data)
            return writer.commit(durable=False)
        except BaseException:
            writer.abort()
            raise

    async def _status(self, registry: str) -> tuple[InvoiceStatus, str | None]:
        """``consultarFactura``, and ``consultarCodigoRCF`` once the invoice is past 1200: the code
        tells DELIVERED (rcflow's provisional one) from ANNOTATED (the accounting's)."""
        status = await self.client.status(registry)
        rcf_code = None
        if status.processing is not None and status.processing.code != Code.REGISTERED:
            rcf_code = await self.client.rcf_code(registry)
        return status, rcf_code

    async def history(self, invoice_id: str) -> list[StateRecord]:
        registry = records.registry_number(invoice_id)
        status, rcf_code = await self._status(registry)
        return records.state_records(status, rcf_code=rcf_code, listing=self._listed.get(registry))

    async def refresh(self, invoice_id: str) -> tuple[InvoiceRecord, list[StateRecord]] | FetchFailure:
        """The state FACe shows now. FACe serves the document's data only before confirmation, so
        the record carries the state columns (and the registry ones when known), the rest None."""
        try:
            registry = records.registry_number(invoice_id)
            status, rcf_code = await self._status(registry)
        except (ValueError, FaceError) as exc:
            return FetchFailure(invoice_id, str(exc))
        listing = self._listed.get(registry)
        states = records.state_records(status, rcf_code=rcf_code, listing=listing)
        invoice = records.invoice_record(
            registry,
            listing=listing,
            download=None,
            annexes=[],
            document=None,
            status=status,
            states=states,
            rcf_code=rcf_code,
        )
        return invoice, states

    async def credit_assignment(self, invoice_id: str) -> CreditAssignment | None:
        """``consultarEstadoCesion``: the invoice's credit assignment, None when it has none."""
        registry = records.registry_number(invoice_id)
        found = await self.client.credit_assignment(registry)
        if found.state is None and found.comment is None:
            return None
        raw = {
            "numeroRegistro": found.registry_number,
            "estado": found.state,
            "comentario": found.comment,
            "codigoSeguimiento": found.tracking,
        }
        return CreditAssignment(
            records.invoice_id(registry), found.state, found.comment, records.to_json(raw)
        )

    # ------------------------------------------------------------------ acknowledging

    async def acknowledge(self, invoice_id: str) -> Acknowledged | FetchFailure:
        """``confirmarDescargaFactura`` with the provisional RCF code (call only once stored)."""
        try:
            registry = records.registry_number(invoice_id)
        except ValueError as exc:
            return FetchFailure(invoice_id, str(exc))
        invoice_id = records.invoice_id(registry)
        office = self._office_for(registry)
        if office is None:
            return FetchFailure(
                invoice_id, f"the accounting office of {invoice_id} is unknown: not confirmed"
            )
        code = records.provisional_rcf(registry)
        try:
            answer = await self.client.confirm_download(office, registry, code)
        except (FaceAlreadyConfirmed, FaceTransitionRefused) as exc:
            return await self._confirmed_already(invoice_id, registry, exc)
        except FaceError as exc:
            if _ambiguous(exc):  # it may have been applied: FACe's state decides
                return await self._confirmed_already(invoice_id, registry, exc)
            return FetchFailure(invoice_id, str(exc))
        state = records.lifecycle_state(answer.state or Code.REGISTERED_RCF, code, registry)
        return Acknowledged(invoice_id, state, None, rcf_number=code)

    async def _confirmed_already(
        self, invoice_id: str, registry: str, error: FaceError
    ) -> Acknowledged | FetchFailure:
        """After a 502/505 or a lost answer: acknowledged if FACe shows the invoice past 1200."""
        try:
            status, rcf_code = await self._status(registry)
        except FaceError as again:
            return FetchFailure(invoice_id, f"{error}; and then {again}")
        processing = status.processing
        if processing is None or processing.code == Code.REGISTERED:
            return FetchFailure(invoice_id, str(error))
        state = records.lifecycle_state(processing.code, rcf_code, registry)
        return Acknowledged(invoice_id, state, None, rcf_number=rcf_code)

    def _office_for(self, registry: str) -> str | None:
        office = self._office.get(registry)
        if office is None and self.office_of is not None:
            office = self.office_of(records.invoice_id(registry))
        if office is None and len(self.offices) == 1:
            office = self.offices[0]
        return office

    # ------------------------------------------------------------------ pushing

    async def push_states(self, updates: Sequence[tuple[str, StatePush]]) -> list[PushResult]:
        """ANNOTATED → ``cambiarCodigoRCF``; RECEIVED/ACCEPTED/RECOGNISED/PAID/REJECTED →
        ``cambiarEstadoListadoFacturas`` (≤ 100 per call). Each update is sent once; an invoice's
        second update goes in a later call, and only if its first one was applied."""
        results: list[PushResult | None] = [None] * len(updates)
        rounds: list[list[int]] = []
        seen: dict[str, int] = {}
        for index, (invoice_id, _) in enumerate(updates):
            k = seen.get(invoice_id, 0)
            seen[invoice_id] = k + 1
            if k == len(rounds):
                rounds.append([])
            rounds[k].append(index)
        blocked: set[str] = set()
        for indexes in rounds:
            todo = []
            for index in indexes:
                invoice_id = updates[index][0]
                if invoice_id in blocked:
                    results[index] = PushResult(
                        invoice_id,
                        "uncertain",
                        message=(
                            "not sent: an earlier update of this invoice in the same push was not applied"
                        ),
                    )
                else:
                    todo.append(index)
            await self._push_round([(i, *updates[i]) for i in todo], results)
            blocked.update(updates[i][0] for i in todo if results[i] is None or results[i].outcome != "sent")  # type: ignore[union-attr]
        return [
            r if r is not None else PushResult(updates[i][0], "uncertain", message="not sent")
            for i, r in enumerate(results)
        ]

    async def _push_round(
        self, items: list[tuple[int, str, StatePush]], results: list[PushResult | None]
    ) -> None:
        changes: list[tuple[int, str, StateChange]] = []
        annotations: list[tuple[int, str, str, StatePush]] = []
        for index, invoice_id, push in items:
            try:
                registry = records.registry_number(invoice_id)
            except ValueError as exc:
                results[index] = PushResult(invoice_id, "refused", code="local", message=str(exc))
                continue
            if push.state is State.ANNOTATED:
                annotations.append((index, invoice_id, registry, push))
                continue
            code = records.PUSH_CODES.get(push.state)
            if code is None:
                results[index] = PushResult(
                    invoice_id,
                    "refused",
                    code="local",
                    message=f"FACe takes no {push.state.value} from the entity",
                )
                continue
            office = self._office_for(registry)
            if office is None:
                results[index] = PushResult(
                    invoice_id,
                    "uncertain",
                    message=(f"not sent: the accounting office of {invoice_id} is unknown"),
                )
                continue
            changes.append((index, invoice_id, StateChange(office, registry, code, _comment(push))))

        async def annotate(index: int, invoice_id: str, registry: str, push: StatePush) -> None:
            results[index] = await self._change_rcf(invoice_id, registry, push)

        await asyncio.gather(
            *(annotate(*a) for a in annotations),
            *(
                self._change_batch(changes[i : i + MAX_CHANGE_BATCH], results)
                for i in range(0, len(changes), MAX_CHANGE_BATCH)
            ),
        )

    async def _change_rcf(self, invoice_id: str, registry: str, push: StatePush) -> PushResult:
        if not push.rcf_number:
            return PushResult(invoice_id, "refused", code="local", message="ANNOTATED needs the RCF number")
        try:
            changed = await self.client.change_rcf_code(registry, push.rcf_number)
        except FaceError as exc:
            return _failed(invoice_id, exc)
        return PushResult(invoice_id, "sent", status=200, code="0", hub_reference=changed.tracking)

    async def _change_batch(
        self, batch: list[tuple[int, str, StateChange]], results: list[PushResult | None]
    ) -> None:
        if not batch:
            return
        try:
            answers = await self.client.change_states([c for _, _, c in batch])
        except FaceError as exc:
            for index, invoice_id, _ in batch:
                results[index] = _failed(invoice_id, exc)
            return
        for (index, invoice_id, _), answer in zip(batch, answers, strict=True):
            results[index] = _item_result(invoice_id, answer)

    # ------------------------------------------------------------------ cancellations

    async def cancellation_requests(self, *, office: str | None = None) -> list[CancellationRequest]:
        """``solicitarNuevasAnulaciones`` for ``office`` or every office drained (oldest first)."""
        offices = [office.strip().upper()] if office else await self._drain_offices()

        async def of(one: str) -> list[Any]:
            try:
                return (await self.client.new_cancellations(one)).requests
            except FaceNoInvoices:
                return []

        found: list[CancellationRequest] = []
        for rows in await asyncio.gather(*(of(o) for o in offices)):
            for row in rows:
                self._office[row.registry_number] = row.accounting_office
                raw = {
                    "numeroRegistro": row.registry_number,
                    "oficinaContable": row.accounting_office,
                    "organoGestor": row.managing_body,
                    "unidadTramitadora": row.processing_unit,
                    "fechaHoraSolicitudAnulacion": row.requested_at,
                    "motivo": row.reason,
                }
                found.append(
                    CancellationRequest(
                        records.invoice_id(row.registry_number),
                        row.requested_at,
                        row.reason,
                        "requested",
                        records.to_json(raw),
                    )
                )
        unique = {r.invoice_id: r for r in found}.values()
        return sorted(unique, key=lambda r: (r.requested_at is None, r.requested_at or datetime.min))

    async def answer_cancellation(self, invoice_id: str, *, accept: bool, comment: str) -> PushResult:
        """``gestionarSolicitudAnulacionFactura``: accept (4300, the invoice becomes 3100) or reject
        (4400, with the reason). Sent once; a lost answer is ``uncertain``. The office of a request
        this connector has not listed comes from FACe's list of pending requests."""
        try:
            registry = records.registry_number(invoice_id)
        except ValueError as exc:
            return PushResult(invoice_id, "refused", code="local", message=str(exc))
        office = self._office_for(registry)
        if office is None:
            try:
                await self.cancellation_requests()  # remembers each listed request's office
            except FaceError as exc:
                return _failed(records.invoice_id(registry), exc)
            office = self._office.get(registry)
        if office is None:
            return PushResult(
                invoice_id, "uncertain", message=f"not sent: the accounting office of {invoice_id} is unknown"
            )
        try:
            answer = CancellationAnswer(office, registry, accept, comment)
            answered = await self.client.answer_cancellation(answer)
        except FaceError as exc:
            return _failed(records.invoice_id(registry), exc)
        return PushResult(records.invoice_id(registry), "sent", status=200, code="0",
                          hub_reference=answered.tracking)  # fmt: skip

    # ------------------------------------------------------------------ late attachments: none

    async def late_attachments(self, *, nif: str | None = None, office: str | None = None) -> LatePage:
        """FACe delivers every annex with its invoice: never anything late."""
        return LatePage([], False)

    async def fetch_late_attachment(self, item: LateAttachment) -> FetchedAttachment | FetchFailure:
        """Unreachable: ``late_attachments`` never lists anything."""
        return FetchFailure(item.invoice_id, "FACe has no late attachments")

    async def release_late_attachment(self, attachment_id: str) -> None | FetchFailure:
        """Unreachable: ``late_attachments`` never lists anything."""
        return FetchFailure("", "FACe has no late attachments")


# ---------------------------------------------------------------------- helpers


def parse_signed_facturae(data: bytes) -> FacturaeDocument | FacturaeRejected:
    """A ``.xsig`` parsed: an enveloped signature (Facturae root) as it is; an enveloping one
    (``ds:Signature`` root, FACe's other XAdES shape) by the Facturae inside its ``ds:Object``."""
    parsed = parse_document(data)
    if isinstance(parsed, FacturaeDocument) or not _SIGNATURE_ROOT.match(data[:4096].lstrip(b"\xef\xbb\xbf")):
        return parsed
    inner = _enveloped_facturae(data)
    return parse_document(inner) if inner is not None else parsed


def _enveloped_facturae(data: bytes) -> bytes | None:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if root.tag != DS_SIGNATURE:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "Facturae":
            return etree.tostring(element, xml_declaration=True, encoding="UTF-8")
    return None


def _comment(push: StatePush) -> str:
    if push.state is State.REJECTED:
        reason = push.reason or ""
        return f"{push.reason_code}: {reason}".strip(": ") if push.reason_code else reason
    if push.state is State.PAID and push.payment_date is not None:
        return f"Pagada el {push.payment_date.isoformat()}"  # FACe has no payment-date field
    return ""


def _ambiguous(exc: FaceError) -> bool:
    return bool(getattr(exc, "ambiguous", False))


def _failed(invoice_id: str, exc: FaceError) -> PushResult:
    """A write's error as a push result: FACe's business refusal is ``refused``; anything that
    may hide an applied write, or that says nothing about the data, is ``uncertain``."""
    status = getattr(exc, "status", None)
    reference = exc.tracking if isinstance(exc, FaceResultError) else None
    if isinstance(exc, FaceRequestError):
        return PushResult(invoice_id, "refused", code="local", message=str(exc))
    if isinstance(exc, FaceBusinessError):
        return PushResult(invoice_id, "refused", status=200, code=exc.code, message=str(exc),
                          hub_reference=reference)  # fmt: skip
    code = exc.code if isinstance(exc, FaceResultError) else None
    if isinstance(exc, FaceFault):
        code = exc.faultcode
    elif isinstance(exc, (FaceHttpError, FaceTransportError)):
        code = None
    return PushResult(invoice_id, "uncertain", status=status, code=code, message=str(exc),
                      hub_reference=reference)  # fmt: skip


def _item_result(invoice_id: str, item: ItemResult) -> PushResult:
    if item.ok:
        return PushResult(invoice_id, "sent", status=200, code=item.code, hub_reference=item.tracking)
    outcome = "refused" if result_range(item.code) is Range.BUSINESS else "uncertain"
    message = f"FACe refused ({item.code}): {item.description or ''}".strip()
    return PushResult(invoice_id, outcome, status=200, code=item.code, message=message,
                      hub_reference=item.tracking)  # fmt: skip


__all__ = ["FaceConnector", "parse_signed_facturae"]
