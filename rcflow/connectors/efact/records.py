"""eFACT's answers (detail, entity list, PATCH answer) as the core's records.

The column values are the ones the warehouse has always stored for eFACT: the hub's JSON text
exactly as received (a re-serialised model only when the client kept none), states as
``rcflow.lifecycle`` names, amounts in cents. An invoice's rows are keyed on the id rcflow asked
the hub for, not on the id inside the answer.
"""

from __future__ import annotations

from rcflow.connectors.base import Acknowledged, EntityRecord, InvoiceRecord
from rcflow.connectors.efact.history import raw_items, state_name, state_record, state_records
from rcflow.connectors.efact.models import EntityList, InvoiceDetail

__all__ = ["acknowledged", "entity_records", "invoice_record", "state_record", "state_records"]


def entity_records(listing: EntityList) -> list[EntityRecord]:
    raws = raw_items(listing.raw_json, "ens", len(listing.ens))
    return [
        EntityRecord(entity_nif=e.nif, entity_name=e.nom, ine10=e.ine10, raw_json=raw or e.model_dump_json())
        for e, raw in zip(listing.ens, raws, strict=True)
    ]


def invoice_record(detail: InvoiceDetail, invoice_id: str) -> InvoiceRecord:
    """The detail as ``raw.invoices`` columns, keyed on ``invoice_id``, the id it was asked for
    (never the detail's own: the client refuses a detail carrying another)."""
    return InvoiceRecord(
        invoice_id=invoice_id,
        raw_json=detail.raw_json or detail.model_dump_json(),
        invoice_number=detail.numeroFactura,
        issue_date=detail.dataFactura,
        amount_cents=detail.amount_cents,
        supplier_nif=detail.nifProveidor,
        supplier_name=detail.nomProveidor,
        entity_nif=detail.nif,
        entity_name=detail.nom,
        registry_number=detail.numeroRegistre,
        registry_at=detail.dataRegistre,
        rcf_number=detail.numeroRegistreRCF,
        accounting_office=detail.oficinaComptable,
        managing_body=detail.organGestor,
        processing_unit=detail.unitatTramitadora,
        hub_state=state_name(detail.estat),
        hub_state_at=detail.dataEstat,
        reject_code=detail.codiMotiuRebuig,
        reject_reason=detail.descripcioMotiuRebuig,
        payment_date=detail.dataPagament,
        face_registry_number=detail.numeroRegistreFACe,
        face_registry_at=detail.dataRegistreFACe,
    )


def acknowledged(detail: InvoiceDetail, invoice_id: str) -> Acknowledged:
    """The PATCH answer (or the re-read detail) as the acknowledgement of ``invoice_id``."""
    return Acknowledged(invoice_id, state_name(detail.estat), detail.dataEstat)
