"""Facturae 3.2 / 3.2.1 / 3.2.2 documents, built on demand from the seed and an invoice record.

Element order follows the official XSDs (child elements are unqualified). Totals are exact
to the cent; the hub's ``importFactura`` equals ``InvoiceTotal`` except for invoices the
generator marked as deliberate mismatches.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from dataclasses import dataclass
from datetime import timedelta
from xml.sax.saxutils import escape, quoteattr

from rcflow.connectors.efact.simulator.catalog import GOODS, UNITS
from rcflow.connectors.efact.simulator.clock import fmt_ts
from rcflow.connectors.efact.simulator.identifiers import make_cif, make_dni
from rcflow.connectors.efact.simulator.models import Invoice, Supplier

NAMESPACES = {
    "3.2": "http://www.facturae.es/Facturae/2009/v3.2/Facturae",
    "3.2.1": "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae",
    "3.2.2": "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml",
    "3.2.2-2014": "http://www.facturae.es/Facturae/2014/v3.2.2/Facturae",
}
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
WITHHOLDING_RATE = 15
MONTHS_CA = ("gener", "febrer", "març", "abril", "maig", "juny", "juliol", "agost", "setembre",
             "octubre", "novembre", "desembre")


@dataclass(frozen=True, slots=True)
class Line:
    description: str
    quantity: int
    unit: str
    unit_price_cents: int
    rate: int
    withheld: bool
    file_reference: str | None

    @property
    def gross(self) -> int:
        return self.quantity * self.unit_price_cents

    @property
    def tax(self) -> int:
        return percent(self.gross, self.rate)

    @property
    def withholding(self) -> int:
        return percent(self.gross, WITHHOLDING_RATE) if self.withheld else 0


@dataclass(frozen=True, slots=True)
class Totals:
    gross: int
    taxes: tuple[tuple[int, int, int], ...]  # (rate, base, tax)
    withheld_base: int
    withheld: int
    total: int


def percent(cents: int, rate: int) -> int:
    """``cents * rate / 100`` rounded half away from zero."""
    q, r = divmod(abs(cents) * rate, 100)
    value = q + (1 if r >= 50 else 0)
    return -value if cents < 0 else value


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def invoice_lines(seed: int, invoice_id: str, credit: bool, individual: bool) -> list[Line]:
    """The invoice's lines: a pure function of the seed and the hub id."""
    rng = random.Random(f"{seed}/lines/{invoice_id}")
    count = rng.choice((1, 1, 1, 2, 2, 3, 3, 4, 5, 6))
    withheld = individual and rng.random() < 0.85
    expedient = f"EXP-{rng.randrange(2023, 2026)}-{rng.randrange(1, 9999):04d}"
    lines = []
    for _ in range(count):
        description, (low, high), rate = rng.choice(GOODS)
        if rng.random() < 0.08:
            rate = rng.choice((4, 10, 21))
        if rng.random() < 0.3:
            description = f"{description} — {rng.choice(MONTHS_CA)}"
        price = int(math.exp(rng.uniform(math.log(low), math.log(high))))
        quantity = rng.choice((1, 1, 1, 1, 2, 3, 4, 5, 10, 12, 20))
        lines.append(Line(description, -quantity if credit else quantity, rng.choice(UNITS),
                          price, rate, withheld,
                          expedient if rng.random() < 0.4 else None))
    return lines


def compute_totals(lines: list[Line]) -> Totals:
    by_rate: dict[int, list[int]] = {}
    for line in lines:
        base_tax = by_rate.setdefault(line.rate, [0, 0])
        base_tax[0] += line.gross
        base_tax[1] += line.tax
    gross = sum(line.gross for line in lines)
    withheld_base = sum(line.gross for line in lines if line.withheld)
    withheld = sum(line.withholding for line in lines)
    tax_total = sum(t for _, t in by_rate.values())
    taxes = tuple((rate, b, t) for rate, (b, t) in sorted(by_rate.items(), reverse=True))
    return Totals(gross, taxes, withheld_base, withheld, gross + tax_total - withheld)


def invoice_total(seed: int, invoice_id: str, credit: bool, individual: bool) -> int:
    return compute_totals(invoice_lines(seed, invoice_id, credit, individual)).total


class _Xml:
    """A tiny append-only writer; fast enough to build thousands of documents per second."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def open(self, tag: str, attrs: str = "") -> None:
        self.parts.append(f"<{tag}{attrs}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def leaf(self, tag: str, text: str) -> None:
        self.parts.append(f"<{tag}>{escape(text)}</{tag}>")

    def amount(self, tag: str, cents: int) -> None:
        self.parts.append(f"<{tag}><TotalAmount>{money(cents)}</TotalAmount></{tag}>")

    def text(self) -> str:
        return "".join(self.parts)


def _address_in_spain(x: _Xml, address: str, postcode: str, town: str, province: str) -> None:
    x.open("AddressInSpain")
    x.leaf("Address", address)
    x.leaf("PostCode", postcode)
    x.leaf("Town", town)
    x.leaf("Province", province)
    x.leaf("CountryCode", "ESP")
    x.close("AddressInSpain")


def _seller(x: _Xml, s: Supplier, tax_id: str) -> None:
    x.open("SellerParty")
    x.open("TaxIdentification")
    x.leaf("PersonTypeCode", s.person_type)
    x.leaf("ResidenceTypeCode", s.residence)
    x.leaf("TaxIdentificationNumber", tax_id)
    x.close("TaxIdentification")
    if s.individual:
        x.open("Individual")
        x.leaf("Name", s.given)
        x.leaf("FirstSurname", s.surnames[0])
        x.leaf("SecondSurname", s.surnames[1])
    else:
        x.open("LegalEntity")
        x.leaf("CorporateName", s.name)
    if s.residence == "R":
        _address_in_spain(x, s.address, s.postcode, s.town, s.province)
    else:
        x.open("OverseasAddress")
        x.leaf("Address", s.address)
        x.leaf("PostCodeAndTown", s.town)
        x.leaf("Province", s.province)
        x.leaf("CountryCode", s.country3)
        x.close("OverseasAddress")
    x.close("Individual" if s.individual else "LegalEntity")
    x.close("SellerParty")


def _buyer(x: _Xml, inv: Invoice, tax_id: str) -> None:
    e, o = inv.entity, inv.office
    x.open("BuyerParty")
    x.open("TaxIdentification")
    x.leaf("PersonTypeCode", "J")
    x.leaf("ResidenceTypeCode", "R")
    x.leaf("TaxIdentificationNumber", tax_id)
    x.close("TaxIdentification")
    x.open("AdministrativeCentres")
    for code, role, name in zip((o.accounting, o.managing, o.processing), ("01", "02", "03"),
                                o.names, strict=True):
        x.open("AdministrativeCentre")
        x.leaf("CentreCode", code)
        x.leaf("RoleTypeCode", role)
        _address_in_spain(x, e.address, e.postcode, e.town, e.province)
        x.leaf("CentreDescription", name)
        x.close("AdministrativeCentre")
    x.close("AdministrativeCentres")
    x.open("LegalEntity")
    x.leaf("CorporateName", e.name)
    _address_in_spain(x, e.address, e.postcode, e.town, e.province)
    x.close("LegalEntity")
    x.close("BuyerParty")


def _tax(x: _Xml, code: str, rate: int, base: int, amount: int) -> None:
    x.open("Tax")
    x.leaf("TaxTypeCode", code)
    x.leaf("TaxRate", f"{rate}.00")
    x.amount("TaxableBase", base)
    x.amount("TaxAmount", amount)
    x.close("Tax")


def _invoice(x: _Xml, inv: Invoice, lines: list[Line], totals: Totals, rng: random.Random) -> None:
    x.open("Invoice")
    x.open("InvoiceHeader")
    x.leaf("InvoiceNumber", inv.number)
    if inv.series:
        x.leaf("InvoiceSeriesCode", inv.series)
    x.leaf("InvoiceDocumentType", "FC")
    x.leaf("InvoiceClass", "OR" if inv.credit else "OO")
    if inv.credit:
        start = inv.issue_date.replace(day=1)
        x.open("Corrective")
        x.leaf("InvoiceNumber", f"{inv.number[:-1]}{rng.randrange(10)}")
        if inv.series:
            x.leaf("InvoiceSeriesCode", inv.series)
        x.leaf("ReasonCode", "10")
        x.leaf("ReasonDescription", "Base imponible")
        x.open("TaxPeriod")
        x.leaf("StartDate", start.isoformat())
        x.leaf("EndDate", inv.issue_date.isoformat())
        x.close("TaxPeriod")
        x.leaf("CorrectionMethod", "01")
        x.leaf("CorrectionMethodDescription", "Rectificación íntegra")
        x.leaf("AdditionalReasonDescription", "Abonament per devolució de material")
        x.close("Corrective")
    x.close("InvoiceHeader")
    x.open("InvoiceIssueData")
    x.leaf("IssueDate", inv.issue_date.isoformat())
    x.leaf("InvoiceCurrencyCode", "EUR")
    x.leaf("TaxCurrencyCode", "EUR")
    x.leaf("LanguageName", rng.choice(("ca", "es", "ca")))
    x.close("InvoiceIssueData")
    x.open("TaxesOutputs")
    for rate, base, tax in totals.taxes:
        _tax(x, "01", rate, base, tax)
    x.close("TaxesOutputs")
    if totals.withheld:
        x.open("TaxesWithheld")
        _tax(x, "04", WITHHOLDING_RATE, totals.withheld_base, totals.withheld)
        x.close("TaxesWithheld")
    x.open("InvoiceTotals")
    x.leaf("TotalGrossAmount", money(totals.gross))
    x.leaf("TotalGrossAmountBeforeTaxes", money(totals.gross))
    x.leaf("TotalTaxOutputs", money(sum(t for _, _, t in totals.taxes)))
    x.leaf("TotalTaxesWithheld", money(totals.withheld))
    x.leaf("InvoiceTotal", money(totals.total))
    x.leaf("TotalOutstandingAmount", money(totals.total))
    x.leaf("TotalExecutableAmount", money(totals.total))
    x.close("InvoiceTotals")
    x.open("Items")
    for line in lines:
        x.open("InvoiceLine")
        if line.file_reference:
            x.leaf("FileReference", line.file_reference)
        x.leaf("ItemDescription", line.description)
        x.leaf("Quantity", f"{line.quantity}.0")
        x.leaf("UnitOfMeasure", line.unit)
        x.leaf("UnitPriceWithoutTax", f"{line.unit_price_cents // 100}."
                                      f"{line.unit_price_cents % 100:02d}0000")
        x.leaf("TotalCost", money(line.gross))
        x.leaf("GrossAmount", money(line.gross))
        if line.withheld:
            x.open("TaxesWithheld")
            _tax(x, "04", WITHHOLDING_RATE, line.gross, line.withholding)
            x.close("TaxesWithheld")
        x.open("TaxesOutputs")
        _tax(x, "01", line.rate, line.gross, line.tax)
        x.close("TaxesOutputs")
        x.close("InvoiceLine")
    x.close("Items")
    if totals.total > 0:
        _payment(x, inv, totals.total, rng)
    x.close("Invoice")


def _payment(x: _Xml, inv: Invoice, total: int, rng: random.Random) -> None:
    count = rng.choice((1, 1, 1, 1, 2, 3))
    share = total // count
    x.open("PaymentDetails")
    for i in range(count):
        amount = total - share * (count - 1) if i == count - 1 else share
        x.open("Installment")
        x.leaf("InstallmentDueDate", (inv.issue_date + timedelta(days=30 * (i + 1))).isoformat())
        x.leaf("InstallmentAmount", money(amount))
        x.leaf("PaymentMeans", "04")
        x.open("AccountToBeCredited")
        x.leaf("IBAN", inv.supplier.iban)
        x.close("AccountToBeCredited")
        x.close("Installment")
    x.close("PaymentDetails")


def _b64(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def _signature(body: str, inv: Invoice, rng: random.Random) -> str:
    """An XAdES-EPES-shaped enveloped signature (it does not verify; nothing checks it)."""
    sid = f"Signature{rng.randrange(10**6):06d}"
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    signing_time = fmt_ts(inv.sent_ms - 60_000, millis=False)
    return (
        f'<ds:Signature Id="{sid}"><ds:SignedInfo Id="{sid}-SignedInfo">'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<ds:Reference Id="{sid}-Ref0" URI=""><ds:Transforms><ds:Transform '
        'Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>'
        '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"
        f'<ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" '
        f'URI="#{sid}-SignedProperties"><ds:DigestMethod '
        'Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{_b64(rng, 32)}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        f'<ds:SignatureValue Id="{sid}-SignatureValue">{_b64(rng, 256)}</ds:SignatureValue>'
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_b64(rng, 960)}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        f'<ds:Object><xades:QualifyingProperties xmlns:xades="{XADES}" Target="#{sid}">'
        f'<xades:SignedProperties Id="{sid}-SignedProperties"><xades:SignedSignatureProperties>'
        f"<xades:SigningTime>{signing_time}</xades:SigningTime><xades:SigningCertificate>"
        "<xades:Cert><xades:CertDigest><ds:DigestMethod "
        'Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<ds:DigestValue>{_b64(rng, 32)}</ds:DigestValue></xades:CertDigest>"
        "<xades:IssuerSerial><ds:X509IssuerName>CN=AC FNMT Usuarios, OU=Ceres, O=FNMT-RCM, C=ES"
        f"</ds:X509IssuerName><ds:X509SerialNumber>{rng.randrange(10**30)}"
        "</ds:X509SerialNumber></xades:IssuerSerial></xades:Cert></xades:SigningCertificate>"
        "<xades:SignaturePolicyIdentifier><xades:SignaturePolicyId><xades:SigPolicyId>"
        "<xades:Identifier>http://www.facturae.es/politica_de_firma_formato_facturae/"
        "politica_de_firma_formato_facturae_v3_1.pdf</xades:Identifier>"
        "<xades:Description>Política de Firma FacturaE v3.1</xades:Description>"
        "</xades:SigPolicyId><xades:SigPolicyHash><ds:DigestMethod "
        'Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
        "<ds:DigestValue>Ohixl6upD6av8N7pEvDABhEL6hM=</ds:DigestValue></xades:SigPolicyHash>"
        "</xades:SignaturePolicyId></xades:SignaturePolicyIdentifier><xades:SignerRole>"
        "<xades:ClaimedRoles><xades:ClaimedRole>emisor</xades:ClaimedRole></xades:ClaimedRoles>"
        "</xades:SignerRole></xades:SignedSignatureProperties><xades:SignedDataObjectProperties>"
        f'<xades:DataObjectFormat ObjectReference="#{sid}-Ref0"><xades:Description>Factura '
        "electrónica</xades:Description><xades:MimeType>text/xml</xades:MimeType>"
        "</xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties>"
        "</xades:QualifyingProperties></ds:Object></ds:Signature>"
    )


def seller_tax_id(inv: Invoice, rng: random.Random) -> str:
    """The seller id as written in the XML: Spanish ids mostly without ``ES``."""
    tax_id = inv.supplier.tax_id
    if inv.mismatch == "seller_nif":
        return make_cif(rng, "B") if not inv.supplier.individual else make_dni(rng)
    if inv.supplier.residence == "R" and rng.random() < 0.2:
        return "ES" + tax_id
    return tax_id


def render_facturae(inv: Invoice, seed: int) -> bytes:
    """The Facturae file of ``inv`` (hostile invoices get their hostile variant)."""
    rng = random.Random(f"{seed}/xml/{inv.id}")
    lines = invoice_lines(seed, inv.id, inv.credit, inv.supplier.individual)
    totals = compute_totals(lines)
    version = inv.version.removesuffix("-2014")
    namespace = NAMESPACES[inv.version]
    buyer_id = make_cif(rng, "P") if inv.mismatch == "buyer_nif" else inv.entity.cif
    x = _Xml()
    x.open("FileHeader")
    x.leaf("SchemaVersion", version)
    x.leaf("Modality", "I")
    x.leaf("InvoiceIssuerType", "EM")
    x.open("Batch")
    seller_id = seller_tax_id(inv, rng)
    x.leaf("BatchIdentifier", f"{seller_id}{inv.number}{inv.series}"[:70])
    x.leaf("InvoicesCount", "1")
    x.amount("TotalInvoicesAmount", totals.total)
    x.amount("TotalOutstandingAmount", totals.total)
    x.amount("TotalExecutableAmount", totals.total)
    x.leaf("InvoiceCurrencyCode", "EUR")
    x.close("Batch")
    x.close("FileHeader")
    x.open("Parties")
    _seller(x, inv.supplier, seller_id)
    _buyer(x, inv, buyer_id)
    x.close("Parties")
    x.open("Invoices")
    _invoice(x, inv, lines, totals, rng)
    x.close("Invoices")
    body = x.text()
    signature = _signature(body, inv, rng) if inv.signed else ""
    root = f"<fe:Facturae xmlns:fe={quoteattr(namespace)} xmlns:ds={quoteattr(DS)}>"
    document = f"{root}{body}{signature}</fe:Facturae>"
    return _hostile(inv.hostile, document).encode("utf-8")


def _hostile(kind: str | None, document: str) -> str:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if kind == "xxe":
        doctype = '<!DOCTYPE fe:Facturae [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        document = document.replace("<ItemDescription>", "<ItemDescription>&xxe;", 1)
        return head + doctype + document
    if kind == "bomb":
        entities = ['<!ENTITY lol0 "lol">'] + [
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
        ]
        doctype = f"<!DOCTYPE fe:Facturae [{''.join(entities)}]>\n"
        document = document.replace("<ItemDescription>", "<ItemDescription>&lol9;", 1)
        return head + doctype + document
    if kind == "malformed":
        cut = document.find("<Items>")
        return head + document[: cut + 40] + "<InvoiceLine><<Quantity>1</Items>"
    return head + document
