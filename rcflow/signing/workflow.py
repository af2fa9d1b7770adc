"""Send a legal document for signature and collect it signed, with a record an audit can follow.

``send_document`` writes the request (state ``sending``) before the PDF leaves and its operation
id after; the signer finds a document by rcflow's reference before sending, so running it again
after a crash never opens a second signing circuit. ``collect`` polls the service for every open
request, stores each signed PDF in the blob store (sha256 recorded), and only then tells the
service it was downloaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import duckdb

from rcflow import clock
from rcflow.signing.signer import Placement, Signatory, SignatureRequest, SignatureState, Signer
from rcflow.store import BlobStore
from rcflow.warehouse.signatures import SignatureRecord, record_intent, record_state, requests

_STATE_NAMES = {
    SignatureState.IN_PROCESS: "in_process",
    SignatureState.SIGNED: "signed",
    SignatureState.REJECTED: "rejected",
    SignatureState.CANCELLED: "cancelled",
}


def reference_for(document: str, period: str, lang: str, pdf: bytes) -> str:
    """rcflow's name for one version of one document: a new PDF is a new request."""
    return f"{document}/{period}/{lang}/{hashlib.sha256(pdf).hexdigest()[:16]}"


@dataclass(frozen=True)
class Outgoing:
    """A legal document ready to sign."""

    document: str
    period: str
    lang: str
    title: str
    pdf: bytes = field(repr=False)
    signatories: tuple[tuple[str, Signatory], ...]  # (role, person)
    placements: tuple[tuple[int, int, int], ...] = ()  # (page, x, y) per signatory, same order
    advanced: bool = False


LIVE_STATES = ("sending", "in_process", "signed")


def live_request(
    con: duckdb.DuckDBPyConnection, document: str, period: str, lang: str
) -> SignatureRecord | None:
    """The request of this document that is being signed or is signed, if any (rejected and
    cancelled ones do not count: the document may be sent again)."""
    live = [r for r in requests(con, document=(document, period, lang)) if r.state in LIVE_STATES]
    return live[0] if live else None


def send_document(
    con: duckdb.DuckDBPyConnection,
    store: BlobStore,
    signer: Signer,
    doc: Outgoing,
    *,
    new_version: bool = False,
) -> SignatureRecord:
    """Send ``doc`` unless the document of that period and language is already being signed or
    signed (then its record is returned; ``new_version`` sends this PDF anyway). A request left
    ``sending`` by a crash is completed with the very PDF it recorded, never a second one."""
    live = live_request(con, doc.document, doc.period, doc.lang)
    if live is not None and live.state != "sending" and not new_version:
        return live
    if live is not None and live.state == "sending":
        doc = replace(doc, pdf=store.get(live.sent_sha256))
    reference = reference_for(doc.document, doc.period, doc.lang, doc.pdf)
    sent = store.put(doc.pdf)
    people = []
    for index, (_role, person) in enumerate(doc.signatories):
        spots = (Placement(*doc.placements[index]),) if index < len(doc.placements) else ()
        people.append(Signatory(person.name, person.email, person.role, person.order, person.surname1,
                                person.surname2, person.phone, spots))  # fmt: skip
    record_intent(con, reference=reference, service=signer.service, document=doc.document, period=doc.period,
                  lang=doc.lang, sent_sha256=sent.sha256, at=clock.now(),
                  signatories=[{"role": role, "name": p.name, "email": p.email, "order": p.order}
                               for role, p in doc.signatories])  # fmt: skip
    request = SignatureRequest(title=doc.title, pdf=doc.pdf, signatories=tuple(people),
                               document_type=doc.document, keys={"rcflow_ref": reference,
                               "document": doc.document, "period": doc.period},
                               advanced=doc.advanced)  # fmt: skip
    operation = signer.send(request)
    record_state(con, reference, "in_process", at=clock.now(), operation_id=operation)
    return requests(con, reference=reference)[0]


@dataclass
class Collected:
    """What a collection round saw."""

    signed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


def collect(con: duckdb.DuckDBPyConnection, store: BlobStore, signer: Signer) -> Collected:
    """Poll every open request; store signed PDFs, then mark them downloaded at the service."""
    outcome = Collected()
    pending = [r for r in requests(con, open_only=True) if r.service == signer.service]
    unsent = [r for r in pending if r.operation_id is None]
    if unsent:  # a crash between sending and recording: the service knows them by reference
        by_reference = {s.keys.get("rcflow_ref"): s for s in signer.statuses()}
        for record in unsent:
            if (found := by_reference.get(record.reference)) is not None:
                record_state(
                    con,
                    record.reference,
                    "in_process",
                    at=clock.now(),
                    operation_id=found.operation_id,
                    detail="operation id recovered after an interrupted send",
                )
    open_requests = {r.operation_id: r for r in requests(con, open_only=True)
                     if r.service == signer.service and r.operation_id}  # fmt: skip
    if not open_requests:
        return outcome
    downloaded = []
    for status in signer.statuses(list(open_requests)):
        record = open_requests.get(status.operation_id)
        if record is None:
            continue
        if status.state is SignatureState.SIGNED:
            signed = store.put(signer.fetch_signed(status.operation_id))
            record_state(con, record.reference, "signed", at=clock.now(), signed_sha256=signed.sha256)
            downloaded.append(status.operation_id)
            outcome.signed.append(record.reference)
        else:
            record_state(con, record.reference, _STATE_NAMES[status.state], at=clock.now())
            getattr(
                outcome,
                {
                    SignatureState.REJECTED: "rejected",
                    SignatureState.CANCELLED: "cancelled",
                    SignatureState.IN_PROCESS: "waiting",
                }[status.state],
            ).append(record.reference)
    signer.mark_downloaded(downloaded)
    return outcome
