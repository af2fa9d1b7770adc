"""FACe's answers as the core's records: ids, the provisional RCF code, states, invoice rows.

Pure functions (no I/O), one definition for each rule the connector applies:

* ids: ``face:<numeroRegistro>`` (never colliding with eFACT's numeric ids in shared tables);
  annexes are ``face:<numeroRegistro>:<n>`` (FACe gives annexes no id; ``n`` counts from 1);
* the provisional RCF code sent with ``confirmarDescargaFactura``: ``RCFLOW-<numeroRegistro>``
  (deterministic, so a re-confirmation after a lost answer sends the same code, and a 1300
  showing it means "confirmed by rcflow, the accounting's RCF number still owed");
* FACe codes → lifecycle names (:data:`LIFECYCLE_OF`), and back for pushes (:data:`PUSH_CODES`);
* ``raw_json``: FACe's own field names, never the base64 document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rcflow.connectors.base import EntityRecord, InvoiceRecord, StateRecord
from rcflow.connectors.face.codes import STATE_NAMES
from rcflow.connectors.face.codes import State as Code
from rcflow.connectors.face.models import DownloadedInvoice, InvoiceStatus, NewInvoice, StateInfo
from rcflow.facturae import FacturaeDocument, FacturaeRejected
from rcflow.lifecycle import State

ID_PREFIX = "face:"
PROVISIONAL_PREFIX = "RCFLOW-"
ACCOUNTING_OFFICE_ROLE = "01"  # Facturae AdministrativeCentre RoleTypeCode
MANAGING_BODY_ROLE = "02"
PROCESSING_UNIT_ROLE = "03"

# 1300 is DELIVERED or ANNOTATED depending on the RCF code (see ``lifecycle_state``). 1400
# ("verificada en RCF", sent to the responsible unit) is ANNOTATED: the RCF step is done and the
# unit has not received it yet; RECEIVED would claim the unit's receipt (that is 2100).
LIFECYCLE_OF: dict[str, State] = {
    Code.REGISTERED: State.REGISTERED,
    Code.SENT_TO_UNIT: State.ANNOTATED,
    Code.RECEIVED: State.RECEIVED,
    Code.CONFORMED: State.ACCEPTED,
    Code.RECOGNISED: State.RECOGNISED,
    Code.PAID: State.PAID,
    Code.REJECTED: State.REJECTED,
    Code.CANCELLED: State.CANCELLED,
}
# What cambiarEstadoFactura sets for each state rcflow pushes (ANNOTATED is cambiarCodigoRCF).
PUSH_CODES: dict[State, str] = {
    State.RECEIVED: Code.RECEIVED,
    State.ACCEPTED: Code.CONFORMED,
    State.RECOGNISED: Code.RECOGNISED,
    State.PAID: Code.PAID,
    State.REJECTED: Code.REJECTED,
}


def invoice_id(registry_number: str) -> str:
    return f"{ID_PREFIX}{registry_number}"


def registry_number(invoice_id: str) -> str:
    """FACe's numeroRegistro of a ``face:`` id; ValueError for any other id (another hub's: never
    sent to FACe, where a bare number could name some other invoice)."""
    value = invoice_id.strip()
    number = value.removeprefix(ID_PREFIX)
    if number == value or not number or not number.isalnum():
        raise ValueError(f"not a FACe invoice id (face:<numeroRegistro>): {invoice_id!r}")
    return number


def annex_id(registry: str, index: int) -> str:
    return f"{ID_PREFIX}{registry}:{index + 1}"


def provisional_rcf(registry: str) -> str:
    return f"{PROVISIONAL_PREFIX}{registry}"


def lifecycle_state(code: str, rcf_code: str | None, registry: str) -> str:
    """A FACe processing code as a lifecycle name (an unknown code is kept, as FACe sent it)."""
    if code == Code.REGISTERED_RCF:
        delivered = rcf_code is None or rcf_code == provisional_rcf(registry)
        return (State.DELIVERED if delivered else State.ANNOTATED).value
    state = LIFECYCLE_OF.get(code)
    return state.value if state else code.strip().upper()


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))


# ------------------------------------------------------------------ FACe's answers as JSON


def listing_json(row: NewInvoice) -> dict[str, Any]:
    return {
        "numeroRegistro": row.registry_number,
        "oficinaContable": row.accounting_office,
        "organoGestor": row.managing_body,
        "unidadTramitadora": row.processing_unit,
        "fechaHoraRegistro": row.registered_at,
    }


def download_json(download: DownloadedInvoice, annexes: list[dict[str, Any]]) -> dict[str, Any]:
    """``descargarFactura``'s answer without its files: their names, types, sizes and hashes."""
    return {
        "numeroRegistro": download.registry_number,
        "numero": download.number,
        "serie": download.series,
        "importe": download.amount,
        "proveedor": download.supplier_tax_id,
        "nombre": download.file_name,
        "mime": download.media_type,
        "codigoSeguimiento": download.tracking,
        "anexos": annexes,
    }


def _info_json(info: StateInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"codigo": info.code, "descripcion": info.description, "motivo": info.reason}


def status_json(status: InvoiceStatus, rcf_code: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "numeroRegistro": status.registry_number,
        "tramitacion": _info_json(status.processing),
        "anulacion": _info_json(status.cancellation),
    }
    if rcf_code is not None:
        data["codigoRCF"] = rcf_code
    return data


# ------------------------------------------------------------------ records


def state_records(
    status: InvoiceStatus, *, rcf_code: str | None, listing: NewInvoice | None
) -> list[StateRecord]:
    """What FACe shows of an invoice's states (it keeps no history): REGISTERED at the registry
    date (when known); the RCF registration (1300: DELIVERED under rcflow's provisional code,
    ANNOTATED under the accounting's) when the invoice is past it and FACe holds its RCF code;
    then the current processing state, with the cancellation state in its ``raw_json``."""
    registry = status.registry_number
    records: list[StateRecord] = []
    registered_at = listing.registered_at if listing else None
    processing = status.processing
    if registered_at is not None or processing is None or processing.code == Code.REGISTERED:
        records.append(
            StateRecord(
                state=State.REGISTERED.value,
                raw_json=to_json(listing_json(listing) if listing else status_json(status)),
                state_code=Code.REGISTERED.value,
                state_at=registered_at,
                registry_number=registry,
                registry_at=registered_at,
            )
        )
    past_rcf = processing is not None and processing.code not in (Code.REGISTERED, Code.REGISTERED_RCF)
    if past_rcf and rcf_code is not None:
        records.append(
            StateRecord(
                state=lifecycle_state(Code.REGISTERED_RCF, rcf_code, registry),
                raw_json=to_json({"numeroRegistro": registry, "codigoRCF": rcf_code}),
                state_code=Code.REGISTERED_RCF.value,
                registry_number=registry,
                registry_at=registered_at,
                rcf_number=rcf_code,
            )
        )
    if processing is not None and processing.code != Code.REGISTERED:
        rejected = processing.code == Code.REJECTED
        records.append(
            StateRecord(
                state=lifecycle_state(processing.code, rcf_code, registry),
                raw_json=to_json(status_json(status, rcf_code)),
                state_code=processing.code,
                registry_number=registry,
                registry_at=registered_at,
                rcf_number=rcf_code,
                reject_reason=processing.reason if rejected or processing.code == Code.CANCELLED else None,
            )
        )
    return records


@dataclass(frozen=True)
class Units:
    """The DIR3 triple of an invoice."""

    office: str | None
    managing_body: str | None
    processing_unit: str | None


def units_of(listing: NewInvoice | None, document: FacturaeDocument | FacturaeRejected | None) -> Units:
    """From the new-invoice listing, else from the Facturae's administrative centres."""
    if listing is not None:
        return Units(listing.accounting_office, listing.managing_body, listing.processing_unit)
    if isinstance(document, FacturaeDocument):
        roles = {c.role_code: c.centre_code for c in document.centres}
        return Units(
            roles.get(ACCOUNTING_OFFICE_ROLE), roles.get(MANAGING_BODY_ROLE), roles.get(PROCESSING_UNIT_ROLE)
        )
    return Units(None, None, None)


def invoice_record(
    registry: str,
    *,
    listing: NewInvoice | None,
    download: DownloadedInvoice | None,
    annexes: list[dict[str, Any]],
    document: FacturaeDocument | FacturaeRejected | None,
    status: InvoiceStatus | None,
    states: list[StateRecord],
    rcf_code: str | None = None,
) -> InvoiceRecord:
    """The invoice's row: listing (registry, DIR3 units), download (number, amount, supplier),
    Facturae (buyer, issue date, supplier name) and the state FACe shows now."""
    doc = document if isinstance(document, FacturaeDocument) else None
    units = units_of(listing, document)
    registered_at = listing.registered_at if listing else None
    last = states[-1] if states else None
    raw: dict[str, Any] = {}
    if listing is not None:
        raw["solicitarNuevasFacturas"] = listing_json(listing)
    if download is not None:
        raw["descargarFactura"] = download_json(download, annexes)
    if status is not None:
        raw["consultarFactura"] = status_json(status, rcf_code)
    return InvoiceRecord(
        invoice_id=invoice_id(registry),
        raw_json=to_json(raw),
        invoice_number=download.number if download else None,
        issue_date=doc.issue_date if doc else None,
        amount_cents=cents(download.amount) if download else None,
        supplier_nif=download.supplier_tax_id if download else None,
        supplier_name=doc.seller.name if doc and doc.seller else None,
        entity_nif=doc.buyer.tax_id if doc and doc.buyer else None,
        entity_name=doc.buyer.name if doc and doc.buyer else None,
        registry_number=registry,
        registry_at=registered_at,
        rcf_number=rcf_code,
        accounting_office=units.office,
        managing_body=units.managing_body,
        processing_unit=units.processing_unit,
        hub_state=last.state if last else None,
        hub_state_at=last.state_at if last else None,
        reject_reason=last.reject_reason if last and last.state == State.REJECTED else None,
        face_registry_number=registry,
        face_registry_at=registered_at,
    )


def buyer_entity(document: FacturaeDocument | FacturaeRejected | None, units: Units) -> EntityRecord | None:
    """The receiving entity as its Facturae names it (FACe lists no entities with their NIF)."""
    if not isinstance(document, FacturaeDocument) or document.buyer is None or not document.buyer.tax_id:
        return None
    buyer = document.buyer
    raw = {
        "origen": "Facturae BuyerParty",
        "nif": buyer.tax_id,
        "nombre": buyer.name,
        "oficinaContable": units.office,
    }
    return EntityRecord(entity_nif=buyer.tax_id, entity_name=buyer.name, ine10=None, raw_json=to_json(raw))


def state_name(code: str) -> str:
    """FACe's own name of a code (for messages)."""
    return STATE_NAMES.get(code, ("", code))[1]
