"""report.html and dashboard.html in Catalan, Spanish and English, read back from headless Chromium:
no message left untranslated or unrendered, no English word in the Catalan and Spanish legal text,
numbers, money and dates in the locale's format, the signed documents on the dashboard; the CSV
headers in the language, in both CSV dialects."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from babel.messages.pofile import read_po
from rep_browser import Browser, chromium_available

from rcflow.reports import Readings, html
from rcflow.reports.export import HEADERS, OUTPUTS, write_csvs
from rcflow.reports.i18n import catalogue_path, translations
from rcflow.tabular import CsvDialect
from rcflow.warehouse import Warehouse, snapshot_path_for
from rcflow.warehouse.signatures import record_intent, record_state

needs_chromium = pytest.mark.skipif(
    not chromium_available(), reason="chromium is not installed (make chromium installs it)"
)
LANGS = ("ca", "es", "en")
GENERATED = datetime(2025, 4, 1, 6, 0, tzinfo=UTC)
# Words that are English only (not "legal", "global" or "on": Catalan words too). Codes
# (pending_without_acceptance, REGISTERED) are one token each and left alone; <code> elements
# (commands, file names) are skipped.
ENGLISH = ("the", "and", "with", "of", "invoice", "invoices", "payment", "payments", "paid", "pending",
           "days", "period", "amount", "late", "status", "entity", "supplier", "generated", "within",
           "above", "average", "rejected", "registered", "none", "rate", "interest", "report", "signed",
           "owed", "hub", "figures", "from", "open", "findings", "since", "due", "oldest",
           "updates", "reading", "method", "trend", "scope", "by", "at", "in", "to")  # fmt: skip
# What each page shows for main_q1 (test_rep_worked_examples): global PMP, paid amount, period end.
FIGURES = {
    "ca": ("32,87", "15.800,00 €", "31/03/2025"),
    "es": ("32,87", "15.800,00 €", "31/03/2025"),
    "en": ("32.87", "€15,800.00", "31/03/2025"),
}
SIGNERS = [{"role": "Interventora", "name": "Marta Puig", "email": "m@example.cat", "order": 1},
           {"role": "Tresorer", "name": "Joan Vila", "email": "j@example.cat", "order": 2}]  # fmt: skip


@pytest.fixture(scope="module")
def signed_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose ops.signature_requests holds a signed PMP and a morosity report in process."""
    path = tmp_path_factory.mktemp("signed") / "warehouse.duckdb"
    at = datetime(2025, 4, 2, 8, 30, tzinfo=UTC)
    with Warehouse(path, lock_timeout=30) as wh:
        for document, sha in (("pmp", "a" * 64), ("morosity", "b" * 64)):
            reference = f"{document}/2025-Q1/ca/{sha[:16]}"
            record_intent(wh.con, reference=reference, service="efirma", document=document, period="2025-Q1",
                          lang="ca", sent_sha256=sha, signatories=SIGNERS, at=at)  # fmt: skip
            record_state(wh.con, reference, "in_process", at=at, operation_id=f"op-{document}")
        record_state(wh.con, "pmp/2025-Q1/ca/aaaaaaaaaaaaaaaa", "signed", at=at, signed_sha256="c" * 64)
    return snapshot_path_for(path)


@pytest.fixture(scope="module")
def pages(
    main_q1, signed_snapshot: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Path]]:
    """Both pages in each language, rendered from main_q1's built marts."""
    out = tmp_path_factory.mktemp("pages")
    result = main_q1.result
    rendered: dict[str, dict[str, Path]] = {}
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        for lang in LANGS:
            run = html.RunFacts(generated_at=GENERATED, as_of=result.as_of, today=date(2025, 4, 1),
                                administrations_note="", lang=lang, snapshot=signed_snapshot)  # fmt: skip
            rendered[lang] = {
                name: html.write_page(
                    out / f"{name}.{lang}.html", render(con, result.period, Readings(), run)
                )
                for name, render in (("report", html.render_report), ("dashboard", html.render_dashboard))
            }
    return rendered


def _untranslated_fragments(lang: str) -> list[str]:
    """Pieces of English msgids (between placeholders and tags) of three words or more."""
    with catalogue_path(lang).open("rb") as handle:
        catalog = read_po(handle)
    pieces = []
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for text in ids:
            if text and text not in (
                message.string if isinstance(message.string, tuple) else (message.string,)
            ):
                pieces += [p.strip() for p in re.split(r"%\(\w+\)s|<[^>]+>", text) if len(p.split()) >= 3]
    return pieces


def _visible_text(browser: Browser) -> str:
    """The page as a reader sees it (tooltips included), without <code>, scripts and styles."""
    return browser.evaluate("""(() => {
        const body = document.body.cloneNode(true);
        body.querySelectorAll('code, script, style').forEach(e => e.remove());
        const titles = Array.from(document.querySelectorAll('[title]')).map(e => e.title).join(' ');
        return body.innerText + ' ' + titles + ' ' + document.title;
    })()""")


@needs_chromium
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", ["report", "dashboard"])
def test_pages_are_wholly_in_their_language(pages, lang: str, page: str) -> None:
    with Browser() as browser:
        browser.open(pages[lang][page])
        assert browser.evaluate("document.documentElement.lang") == lang
        text = _visible_text(browser)
    assert browser.errors == []
    assert not re.search(r"\{\{|\}\}|\{%|%\(|\(\w+\)s", text), "a placeholder was not rendered"
    if lang != "en":
        left = [p for p in _untranslated_fragments(lang) if p in text]
        assert not left, f"untranslated: {left[:5]}"
        words = {w for w in re.findall(r"[^\W\d_][\w'-]*", text) if not w.isupper()}
        english = sorted(w for w in words if w.lower() in ENGLISH)
        assert not english, f"English words in the {lang} page: {english}"
    pmp, money, day = FIGURES[lang]
    if page == "report":
        assert pmp in text and money in text.replace("\u00a0", " ") and day in text
        rate = "11,15" if lang != "en" else "11.15"  # the interest rows' rate detail, from the mart
        assert f"12/03/2025 – 31/03/2025 20d @ {rate} %" in text.replace("\u00a0", " ")
    else:
        assert day in text


@needs_chromium
@pytest.mark.parametrize(
    ("lang", "first_stage", "rejected", "signed"),
    [("ca", "Registrada", "Rebutjada", "signat"), ("es", "Registrada", "Rechazada", "firmado"),
     ("en", "Registered", "Rejected", "signed")],
)  # fmt: skip
def test_dashboard_funnel_and_signatures_in_the_language(pages, lang, first_stage, rejected, signed):
    """The funnel built in the browser names stages in the language; the signatures panel lists each
    document sent with its state, signers in order and both sha256s."""
    with Browser() as browser:
        browser.open(pages[lang]["dashboard"])
        funnel = browser.evaluate(
            "Array.from(document.querySelectorAll('#funnel .row')).map(r => r.textContent)"
        )
        rows = browser.evaluate(
            "Array.from(document.querySelectorAll('#signatures tr[data-signature]')).map(tr =>"
            " [tr.dataset.signature, tr.querySelector('[data-state]').dataset.state, tr.innerText])"
        )
    assert browser.errors == []
    assert funnel[0] == f"{first_stage}8" and funnel[-1] == f"{rejected}1"
    assert [r[:2] for r in rows] == [["morosity/2025-Q1/ca", "in_process"], ["pmp/2025-Q1/ca", "signed"]]
    pmp_row = rows[1][2]
    assert signed in pmp_row and "1. Marta Puig" in pmp_row and "2. Joan Vila" in pmp_row
    assert "aaaaaaaaaaaaaaaa" in pmp_row and "cccccccccccccccc" in pmp_row
    assert "02/04/2025 10:30 CEST" in pmp_row  # updated, Madrid time


def test_without_signatures_the_panel_says_so(main_q1, tmp_path: Path) -> None:
    run = html.RunFacts(generated_at=GENERATED, as_of=main_q1.result.as_of, today=date(2025, 4, 1),
                        administrations_note="", lang="ca", snapshot=tmp_path / "none.duckdb")  # fmt: skip
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        page = html.render_dashboard(con, main_q1.result.period, Readings(), run)
    assert "No s'ha enviat cap document a signar." in page and 'data-signature=' not in page


@pytest.mark.parametrize("dialect", [CsvDialect.plain, CsvDialect.excel_es])
@pytest.mark.parametrize("lang", LANGS)
def test_csv_headers_in_the_language_in_both_dialects(main_q1, tmp_path: Path, lang, dialect) -> None:
    """Translated headers, the same rows as the column-named CSVs; Excel-es keeps its BOM, ';'
    and decimal comma under translated headers."""
    with duckdb.connect(str(main_q1.db), read_only=True) as con:
        written = write_csvs(con, tmp_path, dialect, lang=lang)
    label = translations(lang).gettext
    encoding, delimiter = ("utf-8-sig", ";") if dialect is CsvDialect.excel_es else ("utf-8", ",")
    for output in OUTPUTS:
        with open(written[output.file_name], newline="", encoding=encoding) as handle:
            rows = list(csv.reader(handle, delimiter=delimiter))
        assert rows[0] == [label(HEADERS[c]) for c in output.columns], output.file_name
        assert len(rows) - 1 == len(main_q1.csv(output.file_name)), output.file_name
    pmp_header = label(HEADERS["pmp"])
    with open(written["pmp.csv"], newline="", encoding=encoding) as handle:
        total = next(
            r for r in csv.DictReader(handle, delimiter=delimiter) if r[label(HEADERS["entity_nif"])] == "ALL"
        )
    assert total[pmp_header] == ("32,87" if dialect is CsvDialect.excel_es else "32.87")
    assert pmp_header == {
        "ca": "Període mitjà de pagament a proveïdors (dies)",
        "es": "Periodo medio de pago a proveedores (días)",
        "en": "Average period of payment to suppliers (days)",
    }[lang]
    if dialect is CsvDialect.excel_es:
        assert written["pmp.csv"].read_bytes().startswith(b"\xef\xbb\xbf")


def test_signatures_read_through_a_connection_with_the_snapshot_attached(
    signed_snapshot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report run's build connection has the snapshot attached as ``wh``: the panel's rows
    come from it (the file is not opened again), the same as from the file opened on its own."""
    from rcflow.reports import pages as page_data

    with duckdb.connect() as alone:
        from_file = page_data.signatures(alone, signed_snapshot)
    with duckdb.connect() as con:
        con.execute(f"attach '{signed_snapshot}' as wh (read_only)")
        monkeypatch.setattr(page_data.duckdb, "connect", lambda *a, **k: pytest.fail("opened the file"))
        attached = page_data.signatures(con, signed_snapshot)
    assert from_file and attached == from_file
