"""Legal documents as PDFs in Catalan, Spanish and English: their text read back from the PDF shows
the CSV's figures in the locale's format, the legal names, the method, the readings, the as-of day
and the signature page; a PMP document shows each declared administration's global PMP."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from pypdf import PdfReader
from rep_browser import chromium_available
from rep_builder import Built, Inv, load

from rcflow import clock
from rcflow.reports import build_reports
from rcflow.reports.documents import (
    DEFAULT_SIGNERS,
    DocumentFacts,
    applicable,
    render_html,
    signature_placements,
    write_documents,
)
from rcflow.reports.i18n import Formatter, LanguageError, check_language, translations
from rcflow.reports.periods import parse_period

needs_chromium = pytest.mark.skipif(
    not chromium_available(), reason="chromium is not installed (make chromium installs it)"
)
LEGAL_TITLES = {
    "ca": "Període mitjà de pagament a proveïdors",
    "es": "Periodo medio de pago a proveedores",
    "en": "Average period of payment to suppliers",
}


def _text(pdf: Path) -> str:
    """The PDF's text with white space folded (table cells wrap; money has a no-break space)."""
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    return _norm(" ".join(page.extract_text() for page in reader.pages))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _facts(main_q1, as_of: date | None = None, lang: str = "ca") -> DocumentFacts:
    result = main_q1.result
    return DocumentFacts(
        period=result.period, administration="Ajuntament de Prova (P0800100J)",
        method_label=result.method_label, readings=result.readings.lines(translations(lang).gettext),
        generated_at=clock.now(), as_of=as_of or result.period.end,
    )  # fmt: skip


@pytest.fixture(scope="module")
def catalan(main_q1, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("documents-ca")
    with clock.pinned("2025-04-01T06:00:00Z"), duckdb.connect(str(main_q1.db), read_only=True) as con:
        return write_documents(con, out, _facts(main_q1), "ca")


@needs_chromium
def test_a_quarter_gives_four_catalan_pdfs_with_the_csv_figures(main_q1, catalan) -> None:
    assert sorted(catalan) == ["art10.ca.pdf", "interest.ca.pdf", "morosity.ca.pdf", "pmp.ca.pdf"]
    fmt = Formatter("ca")
    pmp = _text(catalan["pmp.ca.pdf"])
    assert LEGAL_TITLES["ca"] in pmp and "Període mitjà de pagament a proveïdors global" in pmp
    for row in main_q1.csv("pmp.csv"):
        assert fmt.number(row["pmp"]) in pmp, row
        assert _norm(fmt.euros(row["paid_amount"])) in pmp
    assert "RD 635/2014 en la redacció del RD 1040/2017 (des de 04/2018)" in pmp  # the method, in Catalan
    assert "Dades a 31/03/2025" in pmp
    assert "01/04/2025 08:00 CEST" in pmp  # generated, in Madrid time with its zone
    assert "Provisional" not in pmp
    assert "L'interventor/a" in pmp and "El/La tresorer/a" in pmp
    assert "Pàgina 1 / 2" in pmp and "Liquidació d'interessos" not in pmp
    assert "Liquidació d'interessos de demora · 2025-Q1" in _text(catalan["interest.ca.pdf"])

    morosity = _text(catalan["morosity.ca.pdf"])
    assert "Informe trimestral sobre el compliment dels terminis legals de pagament" in morosity
    everyone = main_q1.row("morosity.csv", entity_nif="ALL")
    assert fmt.number(everyone["pmpp_days"]) in morosity
    assert fmt.count(int(everyone["pending_late_count"])) in morosity

    art10 = _text(catalan["art10.ca.pdf"])
    assert "sense reconeixement de l'obligació" in art10
    for row in main_q1.csv("pending_recognition.csv"):
        assert row["invoice_number"] in art10 and fmt.day(row["annotated_on"]) in art10


@needs_chromium
def test_no_english_is_left_in_the_catalan_documents(catalan) -> None:
    english = (
        "Average",
        "payment",
        "Invoices",
        "Page",
        "Period",
        "Generated",
        "Amount",
        "Supplier",
        "Treasurer",
        "Readings",
        "interest runs",
        "invoices",
        "every figure",
    )
    for name, pdf in catalan.items():
        text = _text(pdf)
        assert "Criteris aplicats" in text and "els interessos es meriten des de" in text, name
        assert not [w for w in english if re.search(rf"\b{w}\b", text)], name  # partial_payments passes


@needs_chromium
@pytest.mark.parametrize("lang", ["es", "en"])
def test_spanish_and_english_pmp(main_q1, tmp_path, lang) -> None:
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        pdfs = write_documents(con, tmp_path, _facts(main_q1, lang=lang), lang, keys=["pmp"])
    text = _text(pdfs[f"pmp.{lang}.pdf"])
    assert LEGAL_TITLES[lang] in text
    total = main_q1.row("pmp.csv", entity_nif="ALL")
    assert Formatter(lang).number(total["pmp"]) in text
    assert ("Página 1 / " if lang == "es" else "Page 1 / ") in text


@needs_chromium
def test_a_running_period_says_provisional_with_its_day(main_q1, tmp_path) -> None:
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        pdfs = write_documents(con, tmp_path, _facts(main_q1, as_of=date(2025, 2, 14)), "es", keys=["pmp"])
    assert "Provisional: el periodo no ha finalizado; cifras a 14/02/2025." in _text(pdfs["pmp.es.pdf"])


def test_signature_spots_are_inside_the_last_a4_page() -> None:
    spots = signature_placements(DEFAULT_SIGNERS, last_page=3)
    assert [s[0] for s in spots] == [3, 3]
    assert all(0 < x < 794 and 0 < y < 1123 for _, x, y in spots)
    assert spots[0][2] < spots[1][2]


def test_months_have_no_quarterly_documents() -> None:
    assert applicable(parse_period("2025-11")) == ["pmp", "interest"]
    assert applicable(parse_period("2025-Q4")) == ["pmp", "morosity", "art10", "interest"]


@pytest.mark.parametrize("value", ["0.125", "31.825", "-0.005", "2.675", "1234.5"])
def test_documents_round_half_cents_away_from_zero(value: str) -> None:
    """Babel alone rounds half to even; the documents round as the CSV's two decimals do."""
    expected = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert Formatter("es").number(Decimal(value)).replace(".", "") == f"{expected:.2f}".replace(".", ",")
    assert Formatter("en").euros(Decimal(value)).replace("€", "").replace(",", "") == f"{expected:.2f}"


def test_locale_formats_and_unknown_languages() -> None:
    assert Formatter("ca").euros(1234.56) == "1.234,56\u00a0€"
    assert Formatter("es").day(date(2025, 12, 15)) == "15/12/2025"
    assert Formatter("en").number(1234.5) == "1,234.50"
    assert check_language(" CA ") == "ca"
    with pytest.raises(LanguageError, match="use one of ca, es, en"):
        check_language("fr")


ADMIN_A, DEPENDENT_A, ADMIN_B, ALONE = "P0800020F", "Q0800021G", "P0800030A", "A08000040"


@pytest.fixture(scope="module")
def two_administrations(tmp_path_factory) -> Built:
    """Two declared administrations (one with a dependent entity) and an entity in neither."""
    root = tmp_path_factory.mktemp("two-administrations")

    def paid(invoice_id: str, entity: str, amount: int, days: int) -> Inv:
        return Inv(invoice_id, entity, amount, date(2025, 10, 1), {"PAID": date(2025, 10, 1 + days)})

    warehouse = load(root / "warehouse.duckdb", [
        paid("a1", ADMIN_A, 1000, 10), paid("a2", DEPENDENT_A, 1000, 20), paid("b1", ADMIN_B, 3000, 4),
        paid("c1", ALONE, 2000, 5),
    ], entities=[(ADMIN_A, "Ajuntament d'Alella"), (DEPENDENT_A, "Patronat de Cultura d'Alella"),
                 (ADMIN_B, "Ajuntament de Bellver"), (ALONE, "Serveis Comarcals SA")])  # fmt: skip
    declaration = root / "administrations.yaml"
    declaration.write_text(
        f"administrations:\n  - name: Ajuntament d'Alella i organismes\n    parent: {ADMIN_A}\n"
        f"    dependents: [{DEPENDENT_A}]\n  - name: Ajuntament de Bellver\n    parent: {ADMIN_B}\n",
        encoding="utf-8")  # fmt: skip
    out = root / "out"
    with clock.pinned("2025-11-03T09:00:00Z"):
        result = build_reports(warehouse, "2025-10", out, reports_db=out / "reports.duckdb", checks=False,
                               administrations_file=declaration, lang="ca")  # fmt: skip
    return Built(result, out)


def test_a_pmp_document_shows_each_declared_administrations_global_pmp(two_administrations, tmp_path):
    """Each declaration gets its own table and global PMP (A: 1000 × 10 and 1000 × 20 → 15,00;
    B: 4,00); the entity in no declaration is listed alone, with no global row of its own."""
    built = two_administrations
    facts = DocumentFacts(period=built.result.period, administration="", readings=[],
                          method_label=built.result.method_label, generated_at=clock.now(),
                          as_of=built.result.as_of)  # fmt: skip
    with duckdb.connect(str(built.db), read_only=True) as con:
        page = render_html(con, "pmp", facts, "ca")
    text = _norm(re.sub(r"<[^>]+>", " ", html.unescape(page)))
    assert "Ajuntament d'Alella i organismes; Ajuntament de Bellver" in text  # the header names both
    global_pmp = "Període mitjà de pagament a proveïdors global · "
    alella, rest = text.split(global_pmp + "Ajuntament d'Alella i organismes", 1)
    assert "Patronat de Cultura d'Alella" in alella and "Ajuntament de Bellver (P0800030A)" not in alella
    assert rest.split()[0:5] == ["15,00", "2.000,00", "€", "n/d", "0,00"]
    bellver, alone = rest.split(global_pmp + "Ajuntament de Bellver", 1)
    assert "Ajuntament de Bellver (P0800030A)" in bellver and alone.split()[0] == "4,00"
    assert "Entitats que no consten a cap administració declarada, presentades a part" in alone
    assert "Serveis Comarcals SA (A08000040)" in alone and "global" not in alone.split("Criteris aplicats")[0]
    if chromium_available():
        with duckdb.connect(str(built.db), read_only=True) as con:
            pdf = write_documents(con, tmp_path, facts, "ca", keys=["pmp"])["pmp.ca.pdf"]
        printed = _text(pdf)
        assert "global · Ajuntament de Bellver 4,00" in printed and printed.count("proveïdors global") == 2
