"""The signing use cases the command line and the flows share: sign a period's document, collect."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from rcflow.config import ConfigError, Settings, load_config
from rcflow.reports import build_reports
from rcflow.reports.documents import DOCUMENTS, SignatureBox, applicable, signature_placements
from rcflow.reports.i18n import check_language, translations
from rcflow.reports.periods import parse_period
from rcflow.reports.reference import reference_files
from rcflow.signing.efirma.client import EfirmaClient
from rcflow.signing.efirma.settings import EfirmaSettings
from rcflow.signing.signatories import load_signatories
from rcflow.signing.workflow import Collected, Outgoing, collect, live_request, send_document
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.signatures import SignatureRecord, requests


@dataclass(frozen=True)
class SentDocument:
    reference: str
    document: str
    period: str
    state: str
    operation_id: str | None
    pdf: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _signer() -> EfirmaClient:
    return EfirmaClient(load_config(EfirmaSettings))  # a bad RCFLOW_EFIRMA_* setting: exit 2


def _signatories(settings: Settings) -> list[tuple[str, Any]]:
    if settings.signatories is None:
        raise ConfigError("RCFLOW_SIGNATORIES is not set (a YAML file of who signs; see the README)")
    return load_signatories(settings.signatories)


def _sent(record: SignatureRecord, pdf: str) -> SentDocument:
    return SentDocument(
        record.reference, record.document, record.period, record.state, record.operation_id, pdf
    )


def sign_period(
    settings: Settings, period: str, document: str, lang: str | None = None, *, new_version: bool = False
) -> SentDocument:
    """Build ``document`` of ``period`` as a PDF in ``lang`` and send it for signature, unless it is
    already being signed or signed (``new_version`` sends a freshly built one anyway)."""
    lang = check_language(lang or settings.language)
    parsed = parse_period(period)
    if document not in DOCUMENTS:
        raise ConfigError(f"unknown document {document!r}: use one of {', '.join(DOCUMENTS)}")
    if document not in applicable(parsed):
        raise ConfigError(f"{document} is a quarterly document: give a quarter (e.g. {parsed.start.year}-Q4)")
    people = _signatories(settings)
    store = BlobStore(settings.store_dir)
    if not new_version:
        with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout, publish=False) as wh:
            live = live_request(wh.con, document, parsed.label, lang)
        if live is not None and live.state != "sending":
            return _sent(live, str(store.path_for(live.sent_sha256)))
    boxes = [SignatureBox(role, person.full_name) for role, person in people]
    out = settings.warehouse.parent / "reports" / parsed.label
    result = build_reports(
        settings.warehouse, parsed, out, documents_lang=lang, documents=[document], signers=boxes,
        **reference_files(settings),
    )
    pdf_path = result.paths[f"{document}.{lang}.pdf"]
    placements = signature_placements(boxes, last_page=len(PdfReader(pdf_path).pages))
    title = f"{translations(lang).gettext(DOCUMENTS[document].title)} · {parsed.label}"
    outgoing = Outgoing(document=document, period=parsed.label, lang=lang, pdf=pdf_path.read_bytes(),
                        title=title, signatories=tuple(people), placements=tuple(placements))  # fmt: skip
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh, _signer() as signer:
        record = send_document(wh.con, BlobStore(settings.store_dir), signer, outgoing)
    return SentDocument(
        record.reference, document, parsed.label, record.state, record.operation_id, str(pdf_path)
    )


def collect_signatures(settings: Settings) -> Collected:
    """Poll the signing service for every open request; store what came back signed."""
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh, _signer() as signer:
        return collect(wh.con, BlobStore(settings.store_dir), signer)


def signature_status(settings: Settings) -> list[SignatureRecord]:
    """Every request, newest first (read from the warehouse, no call to the service)."""
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout, publish=False) as wh:
        return requests(wh.con)


def signed_pdf(settings: Settings, record: SignatureRecord) -> Path | None:
    """Where the signed PDF of ``record`` is stored, if it came back."""
    if record.signed_sha256 is None:
        return None
    return BlobStore(settings.store_dir).path_for(record.signed_sha256)
