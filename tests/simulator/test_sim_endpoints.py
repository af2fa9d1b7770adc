"""Every read endpoint: shapes per the spec, Facturae consistency, attachments, quirks."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from lxml import etree

from rcflow.connectors.efact.simulator.models import Q_LEGACY_CODES
from rcflow.connectors.efact.states import STATE_TABLE, State

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$")
FACTURAE_NS = {
    "http://www.facturae.es/Facturae/2009/v3.2/Facturae",
    "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae",
    "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml",
    "http://www.facturae.es/Facturae/2014/v3.2.2/Facturae",
}
MAGIC = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG",
    "image/jpeg": b"\xff\xd8\xff",
    "application/zip": b"PK\x03\x04",
    "application/xml": b"<?xml",
}


def _supplier(detail: dict) -> tuple[str, str]:
    key = "Proveidor" if "nifProveidor" in detail else "Proveedor"
    return detail["nif" + key], detail["nom" + key]


def _strip_es(tax_id: str) -> str:
    return tax_id[2:] if tax_id.startswith("ES") and len(tax_id) > 9 else tax_id


def test_detail_has_the_spec_fields(shared_sim, shared_client) -> None:
    """GET /factura/:id answers the §2 fields with the documented formats."""
    for invoice_id in shared_sim.hub.pending_ids()[:30]:
        d = shared_client.get(f"/factura/{invoice_id}").json()
        assert d.get("id", invoice_id) == invoice_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", d["dataFactura"])
        assert Decimal(str(d["importFactura"])) == Decimal(
            shared_sim.hub.invoices[invoice_id].amount_cents) / 100
        nif, name = _supplier(d)
        assert nif and name
        assert d["nif"].startswith("ES") and d["nom"]
        assert re.fullmatch(r"E\d{4}\d{6}", d["numeroRegistre"])
        assert TIMESTAMP.match(d["dataRegistre"]) and "." in d["dataRegistre"]
        assert TIMESTAMP.match(d["dataEstat"])
        assert all(len(d[k]) == 9 for k in ("oficinaComptable", "organGestor",
                                             "unitatTramitadora"))
        assert d["estat"] == "REGISTERED"
        assert isinstance(d["adjunts"], list)
        assert all(set(a) == {"idAdjunt", "nom"} for a in d["adjunts"])


def test_not_found_codes(shared_sim, shared_client, error_code) -> None:
    """2001 unknown invoice, 2002 unknown attachment, 2003 no history."""
    hub = shared_sim.hub
    pending = hub.pending_ids()[0]
    for path in ("/factura/999", "/factura/999/facturae", "/factura/999/estats",
                 "/factura/999/rebut", "/factura/abc"):
        response = shared_client.get(path)
        assert (response.status_code, error_code(response)) == (404, 2001), path
    other = next(a for a in hub.attachments.values() if a.invoice_id != pending)
    for att in ("1", other.id):
        response = shared_client.get(f"/factura/{pending}/adjunts/{att}")
        assert (response.status_code, error_code(response)) == (404, 2002)
    hidden = next(i for i in hub.backfill_ids if hub.invoices[i].hidden_history)
    response = shared_client.get(f"/factura/{hidden}/estats")
    assert (response.status_code, error_code(response)) == (404, 2003)
    assert shared_client.get(f"/factura/{hidden}").status_code == 200


def test_facturae_matches_the_detail(shared_sim, shared_client) -> None:
    """The XML parses, its totals add up, and total and NIFs equal the detail's."""
    hub = shared_sim.hub
    seen_ns, signed, withheld, credit = set(), 0, 0, 0
    for inv in hub.invoices.values():
        if inv.hostile in ("xxe", "bomb", "malformed"):
            continue
        response = shared_client.get(f"/factura/{inv.id}/facturae")
        assert response.headers["content-type"] == "application/xml"
        root = etree.fromstring(response.content)
        seen_ns.add(etree.QName(root).namespace)
        detail = shared_client.get(f"/factura/{inv.id}").json()
        totals = root.find("Invoices/Invoice/InvoiceTotals")
        total = Decimal(totals.findtext("InvoiceTotal"))
        lines = root.findall("Invoices/Invoice/Items/InvoiceLine")
        gross = sum(Decimal(x.findtext("GrossAmount")) for x in lines)
        line_tax = sum(Decimal(t) for t in root.xpath(
            "Invoices/Invoice/Items/InvoiceLine/TaxesOutputs/Tax/TaxAmount/TotalAmount/text()"))
        assert gross == Decimal(totals.findtext("TotalGrossAmount"))
        assert line_tax == Decimal(totals.findtext("TotalTaxOutputs"))
        assert total == gross + line_tax - Decimal(totals.findtext("TotalTaxesWithheld"))
        assert Decimal(root.findtext("FileHeader/Batch/TotalInvoicesAmount/TotalAmount")) == total
        installments = root.xpath("//Installment/InstallmentAmount/text()")
        if installments:
            assert sum(Decimal(x) for x in installments) == total
        seller = root.findtext("Parties/SellerParty/TaxIdentification/TaxIdentificationNumber")
        buyer = root.findtext("Parties/BuyerParty/TaxIdentification/TaxIdentificationNumber")
        roles = {c.findtext("RoleTypeCode"): c.findtext("CentreCode")
                 for c in root.iterfind("Parties/BuyerParty/AdministrativeCentres/*")}
        assert roles == {"01": detail["oficinaComptable"], "02": detail["organGestor"],
                         "03": detail["unitatTramitadora"]}
        assert root.findtext("Invoices/Invoice/InvoiceHeader/InvoiceNumber") == \
            detail["numeroFactura"]
        matches = (total == Decimal(str(detail["importFactura"])),
                   _strip_es(seller) == _strip_es(_supplier(detail)[0]),
                   _strip_es(buyer) == _strip_es(detail["nif"]))
        assert all(matches) == (inv.mismatch is None), (inv.id, inv.mismatch, matches)
        signed += root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
        withheld += root.find("Invoices/Invoice/TaxesWithheld") is not None
        if root.findtext("Invoices/Invoice/InvoiceHeader/InvoiceClass") == "OR":
            credit += 1
            assert total < 0
            assert root.find("Invoices/Invoice/InvoiceHeader/Corrective") is not None
    assert seen_ns == FACTURAE_NS
    assert signed and withheld and credit


def test_hostile_facturae_variants(shared_sim, shared_client) -> None:
    """XXE, entity bombs and malformed XML are served as is; safe parsers refuse them."""
    from defusedxml import DTDForbidden, EntitiesForbidden
    from defusedxml.ElementTree import fromstring as safe_fromstring

    kinds = {}
    for invoice_id, kind in shared_sim.hub.hostile_ids.items():
        body = shared_client.get(f"/factura/{invoice_id}/facturae").content
        kinds[kind] = body
    assert {"xxe", "bomb", "malformed"} <= set(kinds)
    assert b'SYSTEM "file:///etc/passwd"' in kinds["xxe"]
    assert b"&lol9;" in kinds["bomb"]
    for kind in ("xxe", "bomb"):
        with pytest.raises((DTDForbidden, EntitiesForbidden)):
            safe_fromstring(kinds[kind], forbid_dtd=True)
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(kinds["malformed"])


def test_hostile_attachment_names(shared_sim, shared_client) -> None:
    """Some names are path traversals, absolute, control characters or very long."""
    names = [a.name for a in shared_sim.hub.attachments.values()]
    assert any(".." in n for n in names)
    assert any("\x00" in n or "\x1b" in n for n in names) or any(len(n) > 255 for n in names)


def test_attachments_have_real_types(shared_sim, shared_client) -> None:
    """Each kind comes with its content type, a matching signature and exact length."""
    hub = shared_sim.hub
    seen = set()
    for att in hub.attachments.values():
        if att.kind in seen or not att.arrived or att.size == 0:
            continue
        seen.add(att.kind)
        response = shared_client.get(f"/factura/{att.invoice_id}/adjunts/{att.id}")
        assert response.status_code == 200
        ctype = response.headers["content-type"]
        assert int(response.headers["content-length"]) == len(response.content) > 0
        if ctype in MAGIC:
            assert response.content.startswith(MAGIC[ctype]), att.kind
        if att.kind in ("xlsx", "docx", "zip"):
            assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
        assert shared_client.get(f"/factura/{att.invoice_id}/adjunts/{att.id}").content == \
            response.content
    assert seen == {"pdf", "xlsx", "docx", "png", "jpeg", "zip", "xml", "txt", "bin"}


def test_large_attachment_streams(_server, sim_config, client) -> None:
    """A multi-megabyte attachment arrives complete (streamed, not held in memory)."""
    hub = _server.reset(sim_config(invoices=60, large_attachment_rate=0.5))
    big = next(a for a in hub.attachments.values() if a.size > 2_000_000 and a.arrived)
    with client.stream("GET", f"/factura/{big.invoice_id}/adjunts/{big.id}") as response:
        assert response.status_code == 200
        received = sum(len(chunk) for chunk in response.iter_bytes())
    assert received == int(response.headers["content-length"]) >= big.size - 100


def test_receipt_and_entities(shared_sim, shared_client, error_code) -> None:
    """/rebut is a small PDF; /ens lists the entities with valid CIFs and INE10 codes."""
    invoice_id = shared_sim.hub.pending_ids()[0]
    receipt = shared_client.get(f"/factura/{invoice_id}/rebut")
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF-") and receipt.content.rstrip().endswith(b"%%EOF")
    assert len(receipt.content) < 20_000
    unregistered = shared_sim.hub.unregistered_ids[0]
    failed = shared_client.get(f"/factura/{unregistered}/rebut")
    assert (failed.status_code, error_code(failed)) == (500, 9002)
    ens = shared_client.get("/ens").json()["ens"]
    assert len(ens) >= 4
    for entity in ens:
        assert re.fullmatch(r"ES[PQS]\d{7}[A-J]", entity["nif"])
        assert re.fullmatch(r"\d{10}", entity["ine10"]) and entity["nom"]


def test_history_codes_and_backfill_states(shared_sim, shared_client) -> None:
    """/estats uses technical codes (public ones for a legacy share); backfill spans states."""
    hub = shared_sim.hub
    states = set()
    for invoice_id in hub.backfill_ids:
        inv = hub.invoices[invoice_id]
        states.add(inv.state)
        assert not inv.pending
        if inv.hidden_history:
            continue
        estats = shared_client.get(f"/factura/{invoice_id}/estats").json()["estats"]
        for entry in estats:
            info = STATE_TABLE[State(entry["estat"])]
            legacy = bool(inv.quirks & Q_LEGACY_CODES)
            assert entry["codiEstat"] == (info.public_code if legacy else info.technical_code)
            assert TIMESTAMP.match(entry["dataEstat"])
            if entry["estat"] == "REGISTERED":
                assert entry["numeroRegistre"] and TIMESTAMP.match(entry["dataRegistre"])
            if entry["estat"] == "ANNOTATED":
                assert entry["numeroRegistreRCF"].startswith("RCF-")
            if entry["estat"] == "REJECTED":
                assert entry["descripcioMotiuRebuig"]
        stamps = [e["dataEstat"] for e in estats]
        assert stamps == sorted(stamps) or len({s[-6:] for s in stamps}) > 1
    assert {State.ANNOTATED, State.PAID, State.REJECTED} <= states
    assert set(hub.backfill_ids).isdisjoint(hub.pending_ids())
    hub_rejected = [i for i in hub.backfill_ids if hub.invoices[i].state is State.REJECTED
                    and hub.invoices[i].last(State.ANNOTATED) is None]
    assert hub_rejected
    legacy = [i for i in hub.invoices.values() if i.quirks & Q_LEGACY_CODES]
    assert legacy


def test_face_origin_and_quirks_are_present(shared_sim, shared_client) -> None:
    """Across invoices: FACe fields, both supplier spellings, missing id, string amounts."""
    seen: dict[str, int] = {}
    for invoice_id in list(shared_sim.hub.invoices)[:150]:
        d = shared_client.get(f"/factura/{invoice_id}").json()
        for key in ("numeroRegistreFACe", "nifProveedor", "nifProveidor"):
            seen[key] = seen.get(key, 0) + (key in d)
        seen["no id"] = seen.get("no id", 0) + ("id" not in d)
        seen["str amount"] = seen.get("str amount", 0) + isinstance(d["importFactura"], str)
        seen["no millis"] = seen.get("no millis", 0) + ("." not in d["dataEstat"])
        if "numeroRegistreFACe" in d:
            assert TIMESTAMP.match(d["dataRegistreFACe"])
    assert all(seen.values()), seen


def test_quirks_can_be_switched_off(_server, sim_config, client, error_code) -> None:
    """With quirks off, details and errors follow the spec's field list strictly."""
    hub = _server.reset(sim_config(quirks=False))
    for invoice_id in hub.invoices:
        d = client.get(f"/factura/{invoice_id}").json()
        assert d["id"] == invoice_id and "nifProveidor" in d
        assert isinstance(d["importFactura"], float | int)
    for _ in range(10):
        body = client.get("/factura/1").json()
        assert isinstance(body["codiError"], int) and "descripcioError" in body


def test_error_quirks_vary(shared_client) -> None:
    """With quirks on, codiError is sometimes a string and the key sometimes ' descripcioError'."""
    bodies = [shared_client.get("/factura/1").json() for _ in range(40)]
    assert any(isinstance(b["codiError"], str) for b in bodies)
    assert any(isinstance(b["codiError"], int) for b in bodies)
    assert any(" descripcioError" in b for b in bodies)
    assert any("descripcioError" in b for b in bodies)


def test_unknown_route(shared_client) -> None:
    assert shared_client.get("/no-such-thing").status_code == 404
    assert shared_client.delete("/factura/1").status_code in (404, 405)
