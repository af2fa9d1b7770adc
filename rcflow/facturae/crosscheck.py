"""Does the Facturae file say what the hub's invoice detail says?"""

from __future__ import annotations

from dataclasses import dataclass

from rcflow.facturae.model import FacturaeDocument
from rcflow.taxid import normalize_tax_id


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement, as a ``raw.facturae_mismatches`` row (values as text)."""

    field: str  # total | seller_nif | buyer_nif
    hub_value: str | None
    xml_value: str | None


def format_cents(cents: int) -> str:
    """``-154275`` → ``'-1542.75'``: exact, no float on the way."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def crosscheck(
    doc: FacturaeDocument,
    *,
    hub_total_cents: int | None,
    hub_supplier_nif: str | None,
    hub_entity_nif: str | None,
) -> list[Mismatch]:
    """Compare InvoiceTotal (exact cents) and the seller/buyer ids (normalised) with the hub's.

    A hub value of None means the hub did not say, so nothing is compared for that field.
    """
    found: list[Mismatch] = []
    if hub_total_cents is not None and hub_total_cents != doc.total_cents:
        found.append(
            Mismatch("total", format_cents(hub_total_cents), format_cents(doc.total_cents))
        )
    for field, hub_nif, xml_nif in (
        ("seller_nif", hub_supplier_nif, doc.seller.tax_id),
        ("buyer_nif", hub_entity_nif, doc.buyer.tax_id),
    ):
        if hub_nif is not None and normalize_tax_id(hub_nif) != normalize_tax_id(xml_nif):
            found.append(Mismatch(field, hub_nif, xml_nif))
    return found
