"""Render ``report.html`` and ``dashboard.html``: self-contained pages (inline CSS and SVG), in the
run's language (:mod:`rcflow.reports.i18n`: Babel catalogues, locale numbers and dates)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment
from markupsafe import Markup

from rcflow.reports import charts, pages
from rcflow.reports.documents import DOCUMENTS
from rcflow.reports.i18n import N_, Formatter, environment, translations
from rcflow.reports.periods import Period
from rcflow.reports.readings import DATE_READING, UNCERTAINTIES, Readings

STATUS_COLOURS = {
    "SENT": "#b8c4d0", "REGISTERED": "#8fa8c2", "DELIVERED": "#7d9cc0", "ANNOTATED": "#5f8fc4",
    "RECEIVED": "#4a82c0", "ACCEPTED": "#3574b8", "RECOGNISED": "#2a63a0", "PAID": "#3a9d5d",
    "REJECTED": "#c44e52", "CANCELLED": "#8c6bb1",
}  # fmt: skip
AGEING_COLOURS = ("#3a9d5d", "#b5a11f", "#e08a2e", "#d0603a", "#c44e52")
NO_DECLARATION = N_("No administrations declared: the warehouse is taken as one administration (one "
                    "global PMP); invoices with no entity are reported alone.")  # fmt: skip
DECLARED = N_("%(n)s administration(s) declared in %(file)s: each gets its global PMP; entities in no "
              "declaration are reported alone.")  # fmt: skip


def administrations_note(
    declared: int, source: Path | str | None, gettext: Callable[[str], str] = str
) -> str:
    """How the administrations were taken, for the pages and report.json (``gettext``: language)."""
    if not declared:
        return gettext(NO_DECLARATION)
    return gettext(DECLARED) % {"n": declared, "file": source}


@dataclass(frozen=True)
class RunFacts:
    """What a page says about its run: when it was generated, the day its figures are as of,
    how the administrations were taken, its language, and the warehouse snapshot whose signed
    documents the dashboard lists."""

    generated_at: datetime
    as_of: date
    today: date
    administrations_note: str
    lang: str = "en"
    administrations_declared: int = 0
    administrations_source: str | None = None
    snapshot: Path | None = None


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _embedded_json(data: object) -> Markup:
    text = json.dumps(data, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    # Inside <script>, "</" could close the element early.
    return Markup(text.replace("</", "<\\/"))


@functools.cache
def _page_environment(lang: str) -> Environment:
    """The templates' environment plus the filters that name the marts' codes in ``lang``;
    one per language and process, so a template is compiled once, not at every build."""
    env = environment(lang)
    gettext = translations(lang).gettext

    def labelled(table: dict[str, str]) -> Callable[[str | None], str]:
        return lambda code: "" if code is None else (gettext(table[code]) if code in table else code)

    fmt = Formatter(lang)

    def rate_detail(text: str | None) -> str:
        """The mart's ``2025-02-10..2025-03-31 50d @ 11.15% [S] BOE…`` in the page's language."""
        text = re.sub(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})",
                      lambda m: f"{fmt.day(m[1])} – {fmt.day(m[2])}", text or "")  # fmt: skip
        text = re.sub(r"@ (-?\d+(?:\.\d+)?)%", lambda m: f"@ {fmt.number(Decimal(m[1]))} %", text)
        return text.replace("rate not yet published", gettext("rate not yet published"))

    env.filters.update(
        rate_detail=rate_detail,
        status=labelled(pages.STATUS_LABELS),
        figure=labelled(pages.FIGURE_LABELS),
        exclusion=labelled(pages.EXCLUSION_LABELS),
        scope=labelled(pages.SCOPE_LABELS),
        obligation=labelled(pages.OBLIGATION_LABELS),
        signature_state=labelled(pages.SIGNATURE_STATES),
        decision_state=labelled(pages.DECISION_STATES),
        translated=lambda text: gettext(text) if text else text,
    )
    return env


def _common(period: Period, readings: Readings, run: RunFacts) -> dict[str, Any]:
    gettext = translations(run.lang).gettext
    fmt = Formatter(run.lang)
    provisional = run.today <= period.end
    status = N_("provisional, as of %(day)s") if provisional else N_("closed, as of %(day)s")
    return {
        "period": pages.period_dict(period),
        "readings": readings.describe(gettext),
        "uncertainties": [gettext(u) for u in UNCERTAINTIES],
        "date_reading": [gettext(d) for d in DATE_READING],
        "generated": fmt.instant(run.generated_at),
        "as_of": run.as_of,
        "is_provisional": provisional,
        "status_line": gettext(status) % {"day": fmt.day(run.as_of)},
        "administrations_note": administrations_note(
            run.administrations_declared, run.administrations_source, gettext
        ),
        "quarantine_excluded": readings.quarantined_invoices == "exclude",
        "all_entities": gettext("All entities"),
    }


# A page lists at most this many invoices in each per-invoice list (open findings, scope
# exclusions): the largest amounts, and how many there are; report.json and scope_exclusions.csv
# carry every one. A page of thousands of rows is read by nobody and costs a second to write.
PAGE_LIST_LIMIT = 200


def _largest(rows: list[dict], limit: int) -> list[dict]:
    """``rows`` as they are when there are at most ``limit``, else the ``limit`` largest amounts
    in their order."""
    if len(rows) <= limit:
        return rows
    kept = {id(r) for r in sorted(rows, key=lambda r: -abs(r["amount"] or 0))[:limit]}
    return [r for r in rows if id(r) in kept]


def render_report(
    con: duckdb.DuckDBPyConnection, period: Period, readings: Readings, run: RunFacts,
    shared: pages.Figures | None = None,
) -> str:
    """The e-mailable report page (``shared``: the figures already queried for this run)."""
    gettext = translations(run.lang).gettext
    fmt = Formatter(run.lang)
    context = pages.report_context(con, shared)
    for listed in ("findings_invoices", "scope_exclusions"):
        context[f"{listed}_total"] = len(context[listed])
        context[listed] = _largest(context[listed], PAGE_LIST_LIMIT)
    if not run.administrations_declared:  # the mart names the whole warehouse in English
        context["headline"]["pmp_global_administration"] = None
    trend = context["trend"]
    for series in trend["series"]:
        if series["entity_nif"] == "ALL":
            series["name"] = gettext("All entities")
    context["trend_svg"] = Markup(charts.line_chart(
        trend["labels"],
        [charts.Series(s["name"], [None if v is None else float(v) for v in s["values"]],
                       emphasis=s["entity_nif"] == "ALL") for s in trend["series"]],
        breaks=trend["breaks"], threshold_label=gettext("30-day limit"), unit=gettext("days"),
        break_label=gettext("method change"), title=gettext("PMP trend"), fmt=fmt,
    ))  # fmt: skip
    statuses = {code: gettext(label) for code, label in pages.STATUS_LABELS.items()}
    context["status_svg"] = Markup(charts.bar_chart(
        [(statuses[s["status"]], float(s["n"]), fmt.count(s["n"]))
         for s in context["status_counts"]],
        colours=[STATUS_COLOURS[s["status"]] for s in context["status_counts"]] or None,
        empty_label=gettext("nothing to show"),
    ))  # fmt: skip
    context["ageing_svg"] = Markup(charts.bar_chart(
        [(gettext("%(bucket)s days") % {"bucket": a["bucket"]}, float(a["amount"] or 0),
          fmt.compact_euros(a["amount"] or 0))
         for a in context["ageing"]],
        colours=AGEING_COLOURS, empty_label=gettext("nothing to show"),
    ))  # fmt: skip
    context.update(_common(period, readings, run))
    return _page_environment(run.lang).get_template("report.html.j2").render(**context)


def render_dashboard(
    con: duckdb.DuckDBPyConnection, period: Period, readings: Readings, run: RunFacts,
    shared: pages.Figures | None = None,
) -> str:
    """The invoice-status dashboard, filtered per entity in the browser, the documents sent for
    signature and the open cancellation requests (both read from ``run.snapshot``)."""
    gettext = translations(run.lang).gettext
    context = pages.dashboard_context(con, shared)
    context["entities"]["ALL"]["name"] = gettext("All entities")
    context["signatures"] = pages.signatures(con, run.snapshot)
    context["cancellations"] = pages.cancellations(con, run.snapshot)
    context["document_titles"] = {key: gettext(doc.title) for key, doc in DOCUMENTS.items()}
    context["data_json"] = _embedded_json({
        "entities": context["entities"],
        "statusOrder": pages.STATUS_ORDER,
        "ageingOrder": pages.AGEING_ORDER,
        "statusColours": STATUS_COLOURS,
        "ageingColours": AGEING_COLOURS,
        "locale": str(Formatter(run.lang).locale).replace("_", "-"),
        "words": {
            "status": {code: gettext(label) for code, label in pages.STATUS_LABELS.items()},
            "bucket": {b: gettext("%(bucket)s days") % {"bucket": b} for b in pages.AGEING_ORDER},
        },
    })  # fmt: skip
    context.update(_common(period, readings, run))
    return _page_environment(run.lang).get_template("dashboard.html.j2").render(**context)


def write_page(path: Path, html: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
