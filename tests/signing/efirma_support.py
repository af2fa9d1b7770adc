"""efirma GO test helpers: PDFs made with pypdf, requests, settings for a running simulator."""

from __future__ import annotations

import io

from pypdf import PdfWriter

from rcflow.signing.efirma.client import REFERENCE_KEY
from rcflow.signing.efirma.settings import EfirmaSettings
from rcflow.signing.efirma.simulator import RunningEfirma
from rcflow.signing.signer import Placement, Signatory, SignatoryRole, SignatureRequest

PRIVATE_KEY = "pk-test-Zj9xyAidNJAz3d9-0123"
DEVELOPER = "B65432109"
CLIENT = "P0800100J"


def make_pdf(pages: int = 1, password: str = "") -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_request(
    reference: str = "pmp/2025-11",
    *,
    pdf: bytes | None = None,
    advanced: bool = False,
    placements: tuple[Placement, ...] = (Placement(1, 149, 950),),
) -> SignatureRequest:
    people = (
        Signatory(
            "Marta",
            "interventora@ajuntament.cat",
            surname1="Puig",
            phone="+34600111222",
            placements=placements,
        ),
        Signatory("Jordi", "tresorer@ajuntament.cat", order=2, surname1="Vila", phone="+34600333444"),
        Signatory("Arxiu", "arxiu@ajuntament.cat", role=SignatoryRole.COPY, order=2),
    )
    return SignatureRequest(
        title="PMP 2025-11",
        pdf=pdf or make_pdf(),
        signatories=people,
        document_type="PMP",
        keys={REFERENCE_KEY: reference},
        advanced=advanced,
    )


def settings_for(running: RunningEfirma, **changes: object) -> EfirmaSettings:
    values: dict[str, object] = {
        "url": running.url,
        "private_key": PRIVATE_KEY,
        "developer_cif": DEVELOPER,
        "client_cif": CLIENT,
        "client_name": "Ajuntament de Prova",
        "client_email": "intervencio@aj.cat",
        "timeout": 5.0,
    }
    values.update(changes)
    return EfirmaSettings(**values)  # type: ignore[arg-type]
