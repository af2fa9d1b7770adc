"""Turning fetched hub data into Arrow tables shaped like the ``raw.*`` warehouse tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.connectors.efact.models import EntityList, InvoiceDetail, StateEntry, StateHistory
from rcflow.connectors.efact.states import parse_state
from rcflow.ingest.bundle import FetchedAttachment, InvoiceBundle

TS = pa.timestamp("us", tz="UTC")

ENTITY_SCHEMA = pa.schema(
    [
        ("entity_nif", pa.string()),
        ("entity_name", pa.string()),
        ("ine10", pa.string()),
        ("raw_json", pa.string()),
        ("fetched_at", TS),
    ]
)

INVOICE_SCHEMA = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("invoice_number", pa.string()),
        ("issue_date", pa.date32()),
        ("amount_cents", pa.int64()),
        ("supplier_nif", pa.string()),
        ("supplier_name", pa.string()),
        ("entity_nif", pa.string()),
        ("entity_name", pa.string()),
        ("registry_number", pa.string()),
        ("registry_at", TS),
        ("rcf_number", pa.string()),
        ("accounting_office", pa.string()),
        ("managing_body", pa.string()),
        ("processing_unit", pa.string()),
        ("hub_state", pa.string()),
        ("hub_state_at", TS),
        ("reject_code", pa.string()),
        ("reject_reason", pa.string()),
        ("payment_date", pa.date32()),
        ("face_registry_number", pa.string()),
        ("face_registry_at", TS),
        ("xml_sha256", pa.string()),
        ("source", pa.string()),
        ("raw_json", pa.string()),
        ("first_seen_at", TS),
        ("fetched_at", TS),
    ]
)

STATE_SCHEMA = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("seq", pa.int32()),
        ("state", pa.string()),
        ("state_code", pa.string()),
        ("state_at", TS),
        ("registry_number", pa.string()),
        ("registry_at", TS),
        ("rcf_number", pa.string()),
        ("reject_code", pa.string()),
        ("reject_reason", pa.string()),
        ("payment_date", pa.date32()),
        ("raw_json", pa.string()),
        ("fetched_at", TS),
    ]
)

ATTACHMENT_SCHEMA = pa.schema(
    [
        ("attachment_id", pa.string()),
        ("invoice_id", pa.string()),
        ("name", pa.string()),
        ("media_type", pa.string()),
        ("size_bytes", pa.int64()),
        ("sha256", pa.string()),
        ("source", pa.string()),
        ("fetched_at", TS),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("stage", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("detected_at", TS),
    ]
)

MISMATCH_SCHEMA = pa.schema(
    [
        ("invoice_id", pa.string()),
        ("field", pa.string()),
        ("hub_value", pa.string()),
        ("xml_value", pa.string()),
    ]
)


def raw_items(raw_json: str | None, key: str, count: int) -> list[str | None]:
    """Each element of the answer's ``key`` list exactly as the hub sent it (values untouched)."""
    if raw_json:
        try:
            items = json.loads(raw_json)
            found = next((v for k, v in items.items() if k.strip() == key), None)
            if isinstance(found, list) and len(found) == count:
                return [json.dumps(item, ensure_ascii=False) for item in found]
        except (ValueError, AttributeError):
            pass
    return [None] * count


def entity_rows(listing: EntityList, fetched_at: datetime) -> pa.Table:
    raws = raw_items(listing.raw_json, "ens", len(listing.ens))
    rows = [
        {
            "entity_nif": e.nif,
            "entity_name": e.nom,
            "ine10": e.ine10,
            "raw_json": raw or e.model_dump_json(),
            "fetched_at": fetched_at,
        }
        for e, raw in zip(listing.ens, raws, strict=True)
    ]
    return pa.Table.from_pylist(rows, schema=ENTITY_SCHEMA)


def state_name(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_state(value).value
    except ValueError:
        return value.strip().upper()


def invoice_row(
    detail: InvoiceDetail, *, xml_sha256: str | None, source: str, fetched_at: datetime
) -> dict[str, object]:
    return {
        "invoice_id": detail.id,
        "invoice_number": detail.numeroFactura,
        "issue_date": detail.dataFactura,
        "amount_cents": detail.amount_cents,
        "supplier_nif": detail.nifProveidor,
        "supplier_name": detail.nomProveidor,
        "entity_nif": detail.nif,
        "entity_name": detail.nom,
        "registry_number": detail.numeroRegistre,
        "registry_at": detail.dataRegistre,
        "rcf_number": detail.numeroRegistreRCF,
        "accounting_office": detail.oficinaComptable,
        "managing_body": detail.organGestor,
        "processing_unit": detail.unitatTramitadora,
        "hub_state": state_name(detail.estat),
        "hub_state_at": detail.dataEstat,
        "reject_code": detail.codiMotiuRebuig,
        "reject_reason": detail.descripcioMotiuRebuig,
        "payment_date": detail.dataPagament,
        "face_registry_number": detail.numeroRegistreFACe,
        "face_registry_at": detail.dataRegistreFACe,
        "xml_sha256": xml_sha256,
        "source": source,
        "raw_json": detail.raw_json or detail.model_dump_json(),
        "first_seen_at": fetched_at,
        "fetched_at": fetched_at,
    }


def state_rows(
    invoice_id: str,
    states: Sequence[StateEntry],
    fetched_at: datetime,
    raws: Sequence[str | None] | None = None,
) -> list[dict]:
    raws = raws if raws is not None else [None] * len(states)
    return [
        {
            "invoice_id": invoice_id,
            "seq": seq,
            "state": state_name(entry.estat),
            "state_code": entry.codiEstat,
            "state_at": entry.dataEstat,
            "registry_number": entry.numeroRegistre,
            "registry_at": entry.dataRegistre,
            "rcf_number": entry.numeroRegistreRCF,
            "reject_code": entry.codiMotiuRebuig,
            "reject_reason": entry.descripcioMotiuRebuig,
            "payment_date": entry.dataPagament,
            "raw_json": raw or entry.model_dump_json(exclude_none=True),
            "fetched_at": fetched_at,
        }
        for seq, (entry, raw) in enumerate(zip(states, raws, strict=True), start=1)
    ]


def history_rows(invoice_id: str, history: StateHistory, fetched_at: datetime) -> list[dict]:
    """The rows of one ``/estats`` answer, each with its entry's JSON as received."""
    raws = raw_items(history.raw_json, "estats", len(history.estats))
    return state_rows(invoice_id, history.estats, fetched_at, raws)


def attachment_row(
    invoice_id: str, item: FetchedAttachment, *, source: str, fetched_at: datetime
) -> dict[str, object]:
    return {
        "attachment_id": item.attachment_id,
        "invoice_id": invoice_id,
        "name": item.name,
        "media_type": item.media_type,
        "size_bytes": item.size,
        "sha256": item.sha256,
        "source": source,
        "fetched_at": fetched_at,
    }


def bundle_tables(bundles: Sequence[InvoiceBundle], *, source: str) -> dict[str, pa.Table]:
    """The raw.invoices / raw.invoice_states / raw.attachments rows for a batch of bundles."""
    invoices, states, attachments = [], [], []
    for b in bundles:
        fetched_at = b.fetched_at
        invoices.append(invoice_row(b.detail, xml_sha256=b.xml_sha256, source=source, fetched_at=fetched_at))
        states.extend(history_rows(b.invoice_id, b.history, fetched_at))
        attachments.extend(
            attachment_row(b.invoice_id, a, source="invoice", fetched_at=fetched_at) for a in b.attachments
        )
    return {
        "raw.invoices": pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA),
        "raw.invoice_states": pa.Table.from_pylist(states, schema=STATE_SCHEMA),
        "raw.attachments": pa.Table.from_pylist(attachments, schema=ATTACHMENT_SCHEMA),
    }
