"""Render ``report.html`` and ``dashboard.html``: self-contained pages (inline CSS and SVG)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rcflow import clock
from rcflow.reports import charts, formatting, pages
from rcflow.reports.dbt_runner import REPORTS_PROJECT_DIR
from rcflow.reports.periods import Period
from rcflow.reports.readings import DATE_READING, UNCERTAINTIES, Readings

TEMPLATES_DIR = REPORTS_PROJECT_DIR / "templates"
STATUS_COLOURS = {
    "SENT": "#b8c4d0", "REGISTERED": "#8fa8c2", "DELIVERED": "#7d9cc0", "ANNOTATED": "#5f8fc4",
    "RECEIVED": "#4a82c0", "ACCEPTED": "#3574b8", "RECOGNISED": "#2a63a0", "PAID": "#3a9d5d",
    "REJECTED": "#c44e52",
}  # fmt: skip
AGEING_COLOURS = ("#3a9d5d", "#b5a11f", "#e08a2e", "#d0603a", "#c44e52")


@dataclass(frozen=True)
class RunFacts:
    """What a page says about its run: when it was generated, the day its figures are as of,
    and how the administrations were taken."""

    generated_at: datetime
    as_of: date
    today: date
    administrations_note: str


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=formatting.number,
        euros=formatting.euros,
        count=formatting.count,
        day=formatting.day,
    )
    return env


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


def _common(period: Period, readings: Readings, run: RunFacts) -> dict[str, Any]:
    provisional = run.today <= period.end
    return {
        "period": pages.period_dict(period),
        "readings": readings.describe(),
        "uncertainties": UNCERTAINTIES,
        "date_reading": DATE_READING,
        "generated": clock.format_local(run.generated_at),
        "as_of": run.as_of,
        "is_provisional": provisional,
        "status_line": f"{'provisional' if provisional else 'closed'}, as of {run.as_of:%d/%m/%Y}",
        "administrations_note": run.administrations_note,
        "quarantine_excluded": readings.quarantined_invoices == "exclude",
    }


def render_report(
    con: duckdb.DuckDBPyConnection, period: Period, readings: Readings, run: RunFacts
) -> str:
    """The e-mailable report page."""
    context = pages.report_context(con)
    trend = context["trend"]
    context["trend_svg"] = Markup(charts.line_chart(
        trend["labels"],
        [charts.Series(s["name"], [None if v is None else float(v) for v in s["values"]],
                       emphasis=s["entity_nif"] == "ALL") for s in trend["series"]],
        breaks=trend["breaks"],
    ))  # fmt: skip
    context["status_svg"] = Markup(charts.bar_chart(
        [(s["status"].title(), float(s["n"]), formatting.count(s["n"]))
         for s in context["status_counts"]],
        colours=[STATUS_COLOURS[s["status"]] for s in context["status_counts"]] or None,
    ))  # fmt: skip
    context["ageing_svg"] = Markup(charts.bar_chart(
        [(f"{a['bucket']} days", float(a["amount"] or 0),
          formatting.compact_euros(a["amount"] or 0))
         for a in context["ageing"]],
        colours=AGEING_COLOURS,
    ))  # fmt: skip
    context.update(_common(period, readings, run))
    return _environment().get_template("report.html.j2").render(**context)


def render_dashboard(
    con: duckdb.DuckDBPyConnection, period: Period, readings: Readings, run: RunFacts
) -> str:
    """The invoice-status dashboard, filtered per entity in the browser."""
    context = pages.dashboard_context(con)
    context["data_json"] = _embedded_json({
        "entities": context["entities"],
        "statusOrder": pages.STATUS_ORDER,
        "ageingOrder": pages.AGEING_ORDER,
        "statusColours": STATUS_COLOURS,
        "ageingColours": AGEING_COLOURS,
    })  # fmt: skip
    context.update(_common(period, readings, run))
    return _environment().get_template("dashboard.html.j2").render(**context)


def write_page(path: Path, html: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
