"""Legal documents as PDFs in Catalan, Spanish and English: their text read back from the PDF shows
the CSV's figures in the locale's format, the legal names, the method, the as-of day and the
signature page; every message has a translation."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import duckdb
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from pypdf import PdfReader
from rep_browser import chromium_available

from rcflow import clock
from rcflow.reports.documents import (
    DEFAULT_SIGNERS,
    DocumentFacts,
    applicable,
    signature_placements,
    write_documents,
)
from rcflow.reports.i18n import LOCALES_DIR, Formatter, LanguageError, check_language, translations
from rcflow.reports.periods import parse_period

REPO = Path(__file__).resolve().parents[2]
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


def _facts(main_q1, as_of: date | None = None) -> DocumentFacts:
    result = main_q1.result
    return DocumentFacts(
        period=result.period, administration="Ajuntament de Prova (P0800100J)",
        method_label=result.method_label,
        readings=[f"{r['name']} = {r['value']}: {r['meaning']}" for r in result.readings.describe()],
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
    assert main_q1.result.method_label in pmp
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
        "Signatures",
        "Period",
        "Generated",
        "Amount",
        "Supplier",
        "Treasurer",
        "Readings",
    )
    for name, pdf in catalan.items():
        text = _text(pdf).split("Criteris aplicats")[0]  # the readings' wording is English for now
        assert not [w for w in english if w in text], name


@needs_chromium
@pytest.mark.parametrize("lang", ["es", "en"])
def test_spanish_and_english_pmp(main_q1, tmp_path, lang) -> None:
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        pdfs = write_documents(con, tmp_path, _facts(main_q1), lang, keys=["pmp"])
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


def test_every_message_is_translated() -> None:
    with (REPO / "reports" / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    wanted = {msg for _, _, msg, _, _ in extract_from_dir(
        str(REPO), method_map=method_map, options_map=options_map, keywords={"_": None, "N_": None}
    )}  # fmt: skip
    assert len(wanted) > 40
    for lang in ("ca", "es"):
        with (LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        done = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
        assert not sorted(wanted - done), f"{lang}: untranslated"
        assert translations(lang).gettext("Average period of payment to suppliers") == LEGAL_TITLES[lang]


@pytest.mark.parametrize("value", ["0.125", "31.825", "-0.005", "2.675", "1234.5"])
def test_documents_round_as_the_report_page_does(value: str) -> None:
    from decimal import Decimal

    from rcflow.reports import formatting

    assert Formatter("es").number(Decimal(value)) == formatting.number(Decimal(value))
    assert Formatter("es").euros(Decimal(value)) == formatting.euros(Decimal(value))


def test_locale_formats_and_unknown_languages() -> None:
    assert Formatter("ca").euros(1234.56) == "1.234,56\u00a0€"
    assert Formatter("es").day(date(2025, 12, 15)) == "15/12/2025"
    assert Formatter("en").number(1234.5) == "1,234.50"
    assert check_language(" CA ") == "ca"
    with pytest.raises(LanguageError, match="use one of ca, es, en"):
        check_language("fr")
