"""An old FTP mailbox archive, as entities migrating to the REST API still keep it.

Invoice files are named ``issuer@receiver@reference@hubid.xsig`` (``.xml`` when unsigned);
each invoice also gets a ``DeliveryFeedback`` status file whose
``DeliveryFeedback/StatusFeedback/HubFeedback/HubId`` node holds the hub id (the status
file's own name does not carry it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

from rcflow.connectors.efact.simulator.clock import fmt_ts
from rcflow.connectors.efact.simulator.facturae import money
from rcflow.connectors.efact.simulator.hub import Hub
from rcflow.connectors.efact.simulator.models import Invoice

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def archive_name(inv: Invoice) -> str:
    reference = _UNSAFE.sub("_", inv.number)
    return f"{inv.supplier.nif}@{inv.entity.nif}@{reference}@{inv.id}" + (
        ".xsig" if inv.signed else ".xml")


def delivery_feedback(inv: Invoice) -> bytes:
    current = inv.history[-1]
    fields = [
        ("HubId", inv.id),
        ("RegistryNumber", inv.registry_number or ""),
        ("RegistryDate", fmt_ts(inv.registry_ms) if inv.registry_ms else ""),
        ("Status", current.state.value),
        ("StatusCode", inv.code_for(current.state)),
        ("StatusDate", fmt_ts(current.at_ms)),
    ]
    invoice = [
        ("SellerTaxIdentificationNumber", inv.supplier.nif),
        ("BuyerTaxIdentificationNumber", inv.entity.nif),
        ("InvoiceNumber", inv.number),
        ("InvoiceSeriesCode", inv.series),
        ("IssueDate", inv.issue_date.isoformat()),
        ("TotalAmount", money(inv.amount_cents)),
        ("AccountingOffice", inv.office.accounting),
        ("ManagingBody", inv.office.managing),
        ("ProcessingUnit", inv.office.processing),
    ]

    def block(items: list[tuple[str, str]]) -> str:
        return "".join(f"<{k}>{escape(v)}</{k}>" for k, v in items)

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<DeliveryFeedback><StatusFeedback>'
        f"<HubFeedback>{block(fields)}</HubFeedback>"
        f"<InvoiceFeedback>{block(invoice)}</InvoiceFeedback>"
        "</StatusFeedback></DeliveryFeedback>\n"
    ).encode()


def write_ftp_archive(hub: Hub, ids: Iterable[str], folder: Path | str) -> list[Path]:
    """Write the Facturae files and status files of ``ids`` into ``folder``; return the paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for n, invoice_id in enumerate(ids, start=1):
        inv = hub.invoice(invoice_id)
        invoice_path = target / archive_name(inv)
        invoice_path.write_bytes(hub.facturae(inv.id))
        status_path = target / f"DeliveryFeedback_{n:06d}.xml"
        status_path.write_bytes(delivery_feedback(inv))
        written += [invoice_path, status_path]
    return written
