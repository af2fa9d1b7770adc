"""What rcflow reads from a Facturae file, shaped like the ``raw.facturae_*`` tables.

Money is integer cents (exact Decimal, rounded half up); quantities, prices and rates are floats
as the warehouse stores them. The row helpers return dicts keyed by the warehouse column names,
without ``invoice_id``, ``sha256`` and ``parsed_at``, which the caller owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

DIR3_ROLES = ("01", "02", "03")  # accounting office, managing body, processing unit

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Centre:
    """One AdministrativeCentre of a party (for the buyer: a DIR3 unit)."""

    role_code: str
    centre_code: str | None
    centre_name: str | None


@dataclass(frozen=True, slots=True)
class Party:
    """SellerParty or BuyerParty. ``tax_id`` is normalised, ``tax_id_raw`` as written."""

    tax_id: str
    tax_id_raw: str
    name: str | None
    person_type: str | None  # F individual | J legal entity
    residence: str | None  # R resident | U EU | E elsewhere
    centres: tuple[Centre, ...] = ()


@dataclass(frozen=True, slots=True)
class Batch:
    """FileHeader/Batch: the declared totals of the whole file."""

    invoices_count: int | None
    total_cents: int | None
    outstanding_cents: int | None
    executable_cents: int | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class Line:
    """Items/InvoiceLine of the first invoice."""

    description: str | None
    quantity: float | None
    unit_of_measure: str | None
    unit_price: float | None
    total_cost_cents: int | None
    gross_amount_cents: int | None
    tax_rate: float | None


@dataclass(frozen=True, slots=True)
class Installment:
    """PaymentDetails/Installment of the first invoice."""

    due_date: date | None
    amount_cents: int | None
    payment_means: str | None


@dataclass(frozen=True, slots=True)
class FacturaeDocument:
    """A parsed Facturae file: the header, the parties and the first invoice."""

    schema_version: str  # from the namespace: 3.2 | 3.2.1 | 3.2.2
    namespace: str
    declared_schema_version: str | None  # FileHeader/SchemaVersion as written
    batch: Batch
    seller: Party
    buyer: Party
    invoice_count: int  # Invoice elements actually present
    invoice_number: str
    invoice_series: str | None
    document_type: str | None  # FC | FA | AF
    invoice_class: str | None  # OO | OR | OC | CO | CR | CC
    issue_date: date
    currency: str | None
    gross_amount_cents: int | None  # TotalGrossAmountBeforeTaxes
    tax_output_cents: int | None
    tax_withheld_cents: int | None
    total_cents: int  # InvoiceTotal
    outstanding_cents: int | None
    executable_cents: int | None
    is_signed: bool
    lines: tuple[Line, ...] = ()
    installments: tuple[Installment, ...] = ()
    warnings: tuple[str, ...] = field(default=())  # tolerated oddities, e.g. SchemaVersion

    @property
    def centres(self) -> tuple[Centre, ...]:
        """The buyer's DIR3 centres (roles 01/02/03), first one per role."""
        seen: dict[str, Centre] = {}
        for centre in self.buyer.centres:
            if centre.role_code in DIR3_ROLES and centre.role_code not in seen:
                seen[centre.role_code] = centre
        return tuple(seen[role] for role in DIR3_ROLES if role in seen)

    def document_row(self) -> Row:
        """The ``raw.facturae_documents`` row, minus invoice_id, sha256 and parsed_at."""
        return {
            "parse_status": "ok",
            "parse_error": None,
            "schema_version": self.schema_version,
            "namespace": self.namespace,
            "invoice_number": self.invoice_number,
            "invoice_series": self.invoice_series,
            "document_type": self.document_type,
            "invoice_class": self.invoice_class,
            "seller_nif": self.seller.tax_id,
            "seller_name": self.seller.name,
            "buyer_nif": self.buyer.tax_id,
            "buyer_name": self.buyer.name,
            "issue_date": self.issue_date,
            "currency": self.currency,
            "gross_amount_cents": self.gross_amount_cents,
            "tax_output_cents": self.tax_output_cents,
            "tax_withheld_cents": self.tax_withheld_cents,
            "total_cents": self.total_cents,
            "outstanding_cents": self.outstanding_cents,
            "executable_cents": self.executable_cents,
            "is_signed": self.is_signed,
            "installment_count": len(self.installments),
            "line_count": len(self.lines),
        }

    def line_rows(self) -> list[Row]:
        """``raw.facturae_lines`` rows (line_no from 1), minus invoice_id."""
        return [
            {
                "line_no": number,
                "description": line.description,
                "quantity": line.quantity,
                "unit_of_measure": line.unit_of_measure,
                "unit_price": line.unit_price,
                "total_cost_cents": line.total_cost_cents,
                "gross_amount_cents": line.gross_amount_cents,
                "tax_rate": line.tax_rate,
            }
            for number, line in enumerate(self.lines, start=1)
        ]

    def installment_rows(self) -> list[Row]:
        """``raw.facturae_installments`` rows (seq from 1), minus invoice_id."""
        return [
            {
                "seq": seq,
                "due_date": item.due_date,
                "amount_cents": item.amount_cents,
                "payment_means": item.payment_means,
            }
            for seq, item in enumerate(self.installments, start=1)
        ]

    def centre_rows(self) -> list[Row]:
        """``raw.facturae_centres`` rows, minus invoice_id."""
        return [
            {
                "role_code": centre.role_code,
                "centre_code": centre.centre_code,
                "centre_name": centre.centre_name,
            }
            for centre in self.centres
        ]
