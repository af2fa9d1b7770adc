"""Facturae 3.2 / 3.2.1 / 3.2.2 → :class:`FacturaeDocument`.

The version comes from the root's namespace; elements below the root are unqualified in every
Facturae XSD, but files whose generator qualified them anyway are read the same way. Every
integer bound for an int64 column (amounts in cents, sums of them included) is checked here: a
file whose value does not fit is refused as ``bad_value``, never left to fail the batch's commit.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from lxml import etree

from rcflow.facturae.errors import FacturaeRejected
from rcflow.facturae.model import Batch, Centre, FacturaeDocument, Installment, Line, Party
from rcflow.facturae.security import DEFAULT_MAX_BYTES, parse_untrusted
from rcflow.taxid import normalize_tax_id

NAMESPACES: dict[str, str] = {
    "http://www.facturae.es/Facturae/2009/v3.2/Facturae": "3.2",
    "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae": "3.2.1",
    "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml": "3.2.2",
    "http://www.facturae.es/Facturae/2014/v3.2.2/Facturae": "3.2.2",
}
DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
# An amount with at most two decimals: its cents are exact, no rounding (most Facturae amounts).
_PLAIN_AMOUNT = re.compile(r"(-?)([0-9]{1,16})(?:\.([0-9]{1,2}))?")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")
_CENT = Decimal("0.01")
_INT64 = 2**63


@lru_cache(maxsize=256)
def _steps(path: str, prefix: str) -> tuple[str, ...]:
    return tuple(prefix + step for step in path.split("/"))


class _Reader:
    """Typed lookups below the elements of one document, raising ``FacturaeRejected`` with the
    element path.

    An element's children are grouped by tag the first time a path (``find`` or ``findall``) goes
    through it: a file takes ~90 look-ups through ~40 elements, and a dictionary hit costs a
    twentieth of walking the children again with lxml's iterator."""

    __slots__ = ("_children", "prefix")

    def __init__(self, prefix: str):
        self.prefix = prefix
        # element -> its children by tag (elements hash by identity; the keys keep them alive)
        self._children: dict[etree._Element, dict[object, list[etree._Element]]] = {}

    def _by_tag(self, element: etree._Element) -> dict[object, list[etree._Element]]:
        groups = self._children.get(element)
        if groups is None:
            groups = self._children[element] = {}
            for child in element:
                groups.setdefault(child.tag, []).append(child)
        return groups

    def _first(self, element: etree._Element, steps: tuple[str, ...]) -> etree._Element | None:
        """``element.find("a/b")``: the first element on the path, in document order."""
        found = self._by_tag(element).get(steps[0])
        if not found:
            return None
        if len(steps) == 1:
            return found[0]
        rest = steps[1:]
        for child in found:
            below = self._first(child, rest)
            if below is not None:
                return below
        return None

    def find(self, element: etree._Element, path: str) -> etree._Element | None:
        return self._first(element, _steps(path, self.prefix))

    def findall(self, element: etree._Element, path: str) -> list[etree._Element]:
        """``element.findall("a/b")``: every element on the path, in document order."""
        found = [element]
        for step in _steps(path, self.prefix):
            found = [child for parent in found for child in self._by_tag(parent).get(step, ())]
        return found

    def require(self, element: etree._Element, path: str, where: str = "") -> etree._Element:
        found = self.find(element, path)
        if found is None:
            raise FacturaeRejected("missing_field", f"{where}{path} is missing")
        return found

    def text(self, element: etree._Element, path: str) -> str | None:
        found = self._first(element, _steps(path, self.prefix))
        value = found.text if found is not None else None
        if value is None:
            return None
        value = value.strip()
        return value or None

    def required_text(self, element: etree._Element, path: str, where: str = "") -> str:
        value = self.text(element, path)
        if value is None:
            raise FacturaeRejected("missing_field", f"{where}{path} is missing or empty")
        return value

    def cents(self, element: etree._Element, path: str) -> int | None:
        value = self.text(element, path)
        return None if value is None else _to_cents(value, path)

    def required_cents(self, element: etree._Element, path: str, where: str = "") -> int:
        return _to_cents(self.required_text(element, path, where), where + path)

    def number(self, element: etree._Element, path: str) -> float | None:
        value = self.text(element, path)
        if value is None:
            return None
        if not _NUMBER.fullmatch(value):
            raise FacturaeRejected("bad_value", f"{path} is not a number")
        number = float(value)
        if number in (float("inf"), float("-inf")):
            raise FacturaeRejected("bad_value", f"{path} is out of range")
        return number

    def date(self, element: etree._Element, path: str) -> date | None:
        value = self.text(element, path)
        return None if value is None else _to_date(value, path)

    def required_date(self, element: etree._Element, path: str, where: str = "") -> date:
        return _to_date(self.required_text(element, path, where), where + path)

    def integer(self, element: etree._Element, path: str) -> int | None:
        value = self.text(element, path)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value):
            raise FacturaeRejected("bad_value", f"{path} is not an integer")
        return int(value)


def _to_cents(value: str, path: str) -> int:
    """Exact decimal → integer cents, half up (away from zero), as Facturae amounts are written."""
    plain = _PLAIN_AMOUNT.fullmatch(value)
    if plain is not None:  # up to 16 digits and 2 decimals: well inside int64, nothing to round
        sign, units, fraction = plain.groups()
        cents = int(units) * 100 + (int(fraction.ljust(2, "0")) if fraction else 0)
        return -cents if sign else cents
    if not _NUMBER.fullmatch(value):
        raise FacturaeRejected("bad_value", f"{path} is not a number")
    try:
        cents = int(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    except InvalidOperation:
        raise FacturaeRejected("bad_value", f"{path} is out of range") from None
    return _in_int64(cents, path)


def _in_int64(value: int, path: str) -> int:
    """``value`` if an int64 column holds it; else the file is refused as ``bad_value``."""
    if not -_INT64 <= value < _INT64:
        raise FacturaeRejected("bad_value", f"{path} is out of range")
    return value


def _to_date(value: str, path: str) -> date:
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise FacturaeRejected("bad_value", f"{path} is not a date (YYYY-MM-DD)") from None


def _detect_version(root: etree._Element) -> tuple[str, str]:
    qname = etree.QName(root)
    if qname.localname != "Facturae":
        raise FacturaeRejected("not_facturae", f"root element is {qname.localname[:60]!r}")
    namespace = qname.namespace or ""
    version = NAMESPACES.get(namespace)
    if version is None:
        raise FacturaeRejected("not_facturae", f"unknown Facturae namespace {namespace[:100]!r}")
    return namespace, version


def _reader_for(root: etree._Element, namespace: str) -> _Reader:
    if root.find("FileHeader") is None and root.find(f"{{{namespace}}}FileHeader") is not None:
        return _Reader(f"{{{namespace}}}")
    return _Reader("")


def _party(r: _Reader, element: etree._Element, path: str) -> Party:
    raw = r.required_text(element, "TaxIdentification/TaxIdentificationNumber", f"{path}/")
    name = r.text(element, "LegalEntity/CorporateName")
    if name is None:
        individual = r.find(element, "Individual")
        if individual is not None:
            parts = (r.text(individual, tag) for tag in ("Name", "FirstSurname", "SecondSurname"))
            name = " ".join(part for part in parts if part) or None
    return Party(
        tax_id=normalize_tax_id(raw),
        tax_id_raw=raw,
        name=name,
        person_type=r.text(element, "TaxIdentification/PersonTypeCode"),
        residence=r.text(element, "TaxIdentification/ResidenceTypeCode"),
        centres=tuple(
            _centre(r, c) for c in r.findall(element, "AdministrativeCentres/AdministrativeCentre")
        ),
    )


def _centre(r: _Reader, element: etree._Element) -> Centre:
    role = r.text(element, "RoleTypeCode") or ""
    if role.isdigit() and len(role) == 1:
        role = role.zfill(2)  # some generators write 1 for 01
    return Centre(
        role_code=role,
        centre_code=r.text(element, "CentreCode"),
        centre_name=r.text(element, "Name") or r.text(element, "CentreDescription"),
    )


def _line(r: _Reader, element: etree._Element) -> Line:
    return Line(
        description=r.text(element, "ItemDescription"),
        quantity=r.number(element, "Quantity"),
        unit_of_measure=r.text(element, "UnitOfMeasure"),
        unit_price=r.number(element, "UnitPriceWithoutTax"),
        total_cost_cents=r.cents(element, "TotalCost"),
        gross_amount_cents=r.cents(element, "GrossAmount"),
        tax_rate=r.number(element, "TaxesOutputs/Tax/TaxRate"),
    )


def _installment(r: _Reader, element: etree._Element) -> Installment:
    return Installment(
        due_date=r.date(element, "InstallmentDueDate"),
        amount_cents=r.cents(element, "InstallmentAmount"),
        payment_means=r.text(element, "PaymentMeans"),
    )


def _tax_total(r: _Reader, invoice: etree._Element, totals: etree._Element, kind: str) -> int | None:
    """InvoiceTotals/Total<kind>, else the sum of the invoice's <kind> Tax amounts (refused when
    the sum is out of int64's range, though each amount is within it)."""
    tag = "TotalTaxOutputs" if kind == "TaxesOutputs" else "TotalTaxesWithheld"
    declared = r.cents(totals, tag)
    if declared is not None:
        return declared
    amounts = [r.cents(tax, "TaxAmount/TotalAmount") for tax in r.findall(invoice, f"{kind}/Tax")]
    known = [amount for amount in amounts if amount is not None]
    return _in_int64(sum(known), f"{kind}/Tax/TaxAmount/TotalAmount (sum)") if known else None


def parse_facturae(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> FacturaeDocument:
    """Parse a Facturae file safely, or raise :class:`FacturaeRejected`.

    >>> doc = parse_facturae(xml_bytes)
    >>> doc.schema_version, doc.seller.tax_id, doc.total_cents
    ('3.2.2', 'B12345674', 121000)
    """
    root = parse_untrusted(data, max_bytes=max_bytes)
    namespace, version = _detect_version(root)
    r = _reader_for(root, namespace)
    warnings: list[str] = []

    header = r.require(root, "FileHeader")
    declared_version = r.text(header, "SchemaVersion")
    if declared_version is not None and declared_version != version:
        warnings.append(f"SchemaVersion {declared_version[:20]} in a {version} namespace")
    batch_element = r.find(header, "Batch")
    batch = Batch(None, None, None, None, None)
    if batch_element is not None:
        batch = Batch(
            invoices_count=r.integer(batch_element, "InvoicesCount"),
            total_cents=r.cents(batch_element, "TotalInvoicesAmount/TotalAmount"),
            outstanding_cents=r.cents(batch_element, "TotalOutstandingAmount/TotalAmount"),
            executable_cents=r.cents(batch_element, "TotalExecutableAmount/TotalAmount"),
            currency=r.text(batch_element, "InvoiceCurrencyCode"),
        )

    seller = _party(r, r.require(root, "Parties/SellerParty"), "Parties/SellerParty")
    buyer = _party(r, r.require(root, "Parties/BuyerParty"), "Parties/BuyerParty")

    invoices = r.findall(root, "Invoices/Invoice")
    if not invoices:
        raise FacturaeRejected("missing_field", "Invoices/Invoice is missing")
    if batch.invoices_count is not None and batch.invoices_count != len(invoices):
        warnings.append(f"Batch/InvoicesCount {batch.invoices_count} but {len(invoices)} Invoice elements")
    invoice = invoices[0]
    first = "Invoices/Invoice[1]/"
    totals = r.require(invoice, "InvoiceTotals", first)

    return FacturaeDocument(
        schema_version=version,
        namespace=namespace,
        declared_schema_version=declared_version,
        batch=batch,
        seller=seller,
        buyer=buyer,
        invoice_count=len(invoices),
        invoice_number=r.required_text(invoice, "InvoiceHeader/InvoiceNumber", first),
        invoice_series=r.text(invoice, "InvoiceHeader/InvoiceSeriesCode"),
        document_type=r.text(invoice, "InvoiceHeader/InvoiceDocumentType"),
        invoice_class=r.text(invoice, "InvoiceHeader/InvoiceClass"),
        issue_date=r.required_date(invoice, "InvoiceIssueData/IssueDate", first),
        currency=r.text(invoice, "InvoiceIssueData/InvoiceCurrencyCode") or batch.currency,
        gross_amount_cents=r.cents(totals, "TotalGrossAmountBeforeTaxes"),
        tax_output_cents=_tax_total(r, invoice, totals, "TaxesOutputs"),
        tax_withheld_cents=_tax_total(r, invoice, totals, "TaxesWithheld"),
        total_cents=r.required_cents(totals, "InvoiceTotal", first + "InvoiceTotals/"),
        outstanding_cents=r.cents(totals, "TotalOutstandingAmount"),
        executable_cents=r.cents(totals, "TotalExecutableAmount"),
        is_signed=next(root.iter(DS_SIGNATURE), None) is not None,
        lines=tuple(_line(r, line) for line in r.findall(invoice, "Items/InvoiceLine")),
        installments=tuple(
            _installment(r, item) for item in r.findall(invoice, "PaymentDetails/Installment")
        ),
        warnings=tuple(warnings),
    )
