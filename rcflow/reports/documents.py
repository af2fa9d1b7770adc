"""The legal documents an Intervención files, as A4 PDFs ready to sign, in Catalan, Spanish or English.

Each document shows the figures of one report CSV, read with that CSV's own query
(:data:`rcflow.reports.export.OUTPUTS`), so a PDF and its CSV can never disagree. Every page says
the administration, period, method, the readings applied, when it was generated and as of which
day the data stand; the last page holds one signature box per signatory, at positions a signing
service is told (:func:`signature_placements`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment
from markupsafe import Markup

from rcflow.reports.export import OUTPUTS
from rcflow.reports.i18n import N_, check_language, environment, translations
from rcflow.reports.pdf import print_to_pdf
from rcflow.reports.periods import Period

MM_TO_PX = 96 / 25.4  # A4 pixels at 96 PPI, the grid signing services take positions in
PAGE_MARGIN_MM = (16, 18)  # left, top: the @page margins of documents/_document.html.j2
SIGNATURE_TOP_MM, SIGNATURE_STEP_MM = 14, 50


@dataclass(frozen=True)
class LegalDocument:
    """One filed document: its template, the CSV whose figures it shows, its title and basis."""

    key: str
    csv: str
    title: str
    legal_basis: str
    quarterly_only: bool = False


DOCUMENTS: dict[str, LegalDocument] = {
    doc.key: doc
    for doc in (
        LegalDocument("pmp", "pmp.csv", N_("Average period of payment to suppliers"),
                      N_("RD 635/2014, art. 6 (wording of RD 1040/2017); LO 2/2012, arts. 13.6 and 27.6")),
        LegalDocument("morosity", "morosity.csv",
                      N_("Quarterly report on compliance with the legal payment periods"),
                      N_("Ley 15/2010, art. 4; Ley 3/2004"), quarterly_only=True),
        LegalDocument("art10", "pending_recognition.csv",
                      N_("Invoices more than three months in the accounting register of invoices without "
                         "recognition of the obligation"),
                      N_("Ley 25/2013, art. 10.2"), quarterly_only=True),
        LegalDocument("interest", "late_interest.csv", N_("Statement of late-payment interest"),
                      N_("Ley 3/2004, arts. 5 to 8; LCSP, art. 198.4")),
    )
}  # fmt: skip


@dataclass(frozen=True)
class SignatureBox:
    """A signatory's box on the signature page: who signs, in which role."""

    role: str
    name: str = ""

    def top_mm(self, index: int) -> int:
        return SIGNATURE_TOP_MM + index * SIGNATURE_STEP_MM


DEFAULT_SIGNERS = (SignatureBox(N_("The Interventor")), SignatureBox(N_("The Treasurer")))


@dataclass(frozen=True)
class DocumentFacts:
    """What every document states about itself."""

    period: Period
    administration: str
    method_label: str
    readings: Sequence[str]
    generated_at: datetime
    as_of: date
    today: date | None = None  # the run's Madrid date; a period is provisional through its last day

    @property
    def provisional(self) -> bool:
        if self.today is not None:
            return self.today <= self.period.end
        return self.as_of < self.period.end


def applicable(period: Period) -> list[str]:
    """The documents that exist for ``period`` (morosity and art. 10 are quarterly)."""
    return [d.key for d in DOCUMENTS.values() if period.kind == "quarter" or not d.quarterly_only]


def signature_placements(boxes: Sequence[SignatureBox], last_page: int) -> list[tuple[int, int, int]]:
    """(page, x, y) in A4 pixels of each box's signing spot, for a signing service."""
    left, top = PAGE_MARGIN_MM
    return [(last_page, round((left + 5) * MM_TO_PX), round((top + box.top_mm(i) + 20) * MM_TO_PX))
            for i, box in enumerate(boxes)]  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, csv: str) -> list[dict[str, Any]]:
    output = next(o for o in OUTPUTS if o.file_name == csv)
    cursor = con.execute(output.query())
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _entity_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    pairs = con.execute("select entity_nif, any_value(entity_name) from main.morosity group by 1").fetchall()
    return {nif: name or nif for nif, name in pairs}


def _pmp_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The PMP rows as one group per global PMP (each declared administration, or the whole
    warehouse when none is declared) with its entities, then the entities reported alone."""
    totals = [r for r in rows if r["entity_nif"] == "ALL"]
    entities = [r for r in rows if r["entity_nif"] != "ALL"]
    groups = []
    for total in totals:
        declared = total["administration_id"] not in (None, "", "ALL")
        members = [r for r in entities if r["administration_id"] == total["administration_id"]]
        groups.append({"name": total["administration_name"] if declared else None, "declared": declared,
                       "entities": members, "total": total})  # fmt: skip
    grouped = {id(r) for g in groups for r in g["entities"]}
    alone = [r for r in entities if id(r) not in grouped]
    if alone:
        groups.append({"name": None, "declared": False, "entities": alone, "total": None})
    return groups


def _content(con: duckdb.DuckDBPyConnection, doc: LegalDocument, gettext: Any) -> dict[str, Any]:
    rows = _rows(con, doc.csv)
    if doc.key in ("pmp", "morosity"):
        names = _entity_names(con)
        for row in rows:
            row.setdefault("entity_name", names.get(row["entity_nif"], row["entity_nif"]))
        if doc.key == "pmp":
            groups = _pmp_groups(rows)
            return {"groups": groups, "administrations": [g["name"] for g in groups if g["declared"]]}
        totals = [r for r in rows if r["entity_nif"] == "ALL"]
        for total in totals:
            if not total["entity_name"] or total["entity_name"] == "ALL":
                total["entity_name"] = gettext("All entities")
        entities = [r for r in rows if r["entity_nif"] != "ALL"] + totals
        declared = [t["entity_name"] for t in totals if t["administration_id"] not in (None, "", "ALL")]
        return {"entities": entities, "administrations": declared}
    if doc.key == "art10":
        return {"rows": rows, "total_amount": sum((r["amount"] or 0) for r in rows)}
    return {"rows": rows, "total_claimable": sum((r["total_claimable"] or 0) for r in rows)}


@functools.cache
def _environment(lang: str) -> Environment:
    """The documents' environment in ``lang``, one per process (templates compiled once)."""
    env = environment(lang)
    env.filters["css_string"] = _css_string
    return env


def _css_string(text: str) -> Markup:
    """Text for a quoted CSS string inside ``<style>`` (HTML escaping does not apply there)."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
    return Markup(escaped)


def render_html(
    con: duckdb.DuckDBPyConnection,
    key: str,
    facts: DocumentFacts,
    lang: str,
    signers: Sequence[SignatureBox] = DEFAULT_SIGNERS,
) -> str:
    """One legal document as a self-contained HTML page in ``lang``."""
    lang = check_language(lang)
    doc = DOCUMENTS[key]
    env = _environment(lang)
    gettext = translations(lang).gettext
    names = sorted(set(_entity_names(con).values()) - {"ALL"})
    content = _content(con, doc, gettext)
    declared = content.pop("administrations", [])
    context = {
        "lang": lang, "title": gettext(doc.title), "legal_basis": gettext(doc.legal_basis),
        "administration": facts.administration or "; ".join(declared or names),
        "period": facts.period, "method_label": gettext(facts.method_label) if facts.method_label else "",
        "readings": list(facts.readings), "generated_at": facts.generated_at, "as_of": facts.as_of,
        "provisional": facts.provisional,
        "signers": [{"role": gettext(s.role), "name": s.name, "top_mm": s.top_mm(i)}
                    for i, s in enumerate(signers)],
        **content,
    }  # fmt: skip
    return env.get_template(f"documents/{key}.html.j2").render(**context)


def write_documents(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    facts: DocumentFacts,
    lang: str,
    keys: Sequence[str] | None = None,
    signers: Sequence[SignatureBox] = DEFAULT_SIGNERS,
) -> dict[str, Path]:
    """Write ``<key>.<lang>.html`` and ``.pdf`` for each document into ``out_dir/documents``."""
    folder = out_dir / "documents"
    folder.mkdir(parents=True, exist_ok=True)
    pages: dict[str, Path] = {}
    for key in keys or applicable(facts.period):
        page = folder / f"{key}.{lang}.html"
        page.write_text(render_html(con, key, facts, lang, signers), encoding="utf-8")
        pages[key] = page
    with ThreadPoolExecutor(max_workers=2) as pool:  # one Chromium per document, two at a time
        printed = pool.map(
            lambda item: (item[0], print_to_pdf(item[1], item[1].with_suffix(".pdf"))), pages.items()
        )
        return {f"{key}.{lang}.pdf": pdf for key, pdf in printed}
