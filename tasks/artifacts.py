"""Prefect artifacts summarising each run: markdown tables an operator reads in the UI.

Numbers are written as the reports write them (``1.234,56 €``, Spanish/Catalan style), a missing
figure as ``n/a``, paths as code; text that came from the hub is escaped so it cannot break the
table or inject markup. Secrets never reach this module: it is given summaries, not settings.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from prefect.artifacts import acreate_markdown_artifact, create_markdown_artifact

from rcflow.reports.i18n import CONSOLE

NOT_AVAILABLE, count, euros, number = CONSOLE.na, CONSOLE.count, CONSOLE.euros, CONSOLE.number

Row = tuple[str, object]
Section = tuple[str, Sequence[Row]]  # (heading, (reason, invoices) rows)


def escape(text: str) -> str:
    """Plain text for a markdown table cell or list item: one line, no markup, no stray ``|``."""
    flat = re.sub(r"[\r\n\t\v\f]+", " ", text).strip()
    return html.escape(flat, quote=False).replace("|", "\\|").replace("`", "'")


def cell(value: object) -> str:
    """One value as the table shows it."""
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float | Decimal):
        return number(value)
    if isinstance(value, Path):
        return f"`{escape(str(value))}`"
    return escape(str(value))


def markdown_table(rows: Iterable[Row], header: tuple[str, str]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---:|"]
    lines += [f"| {escape(label)} | {cell(value)} |" for label, value in rows]
    return "\n".join(lines)


def render(
    title: str,
    rows: Iterable[Row],
    notes: Iterable[str] = (),
    sections: Iterable[Section] = (),
) -> str:
    """``# title``, the main table, a table of invoices by reason per non-empty section, the notes."""
    parts = [f"# {escape(title)}", markdown_table(rows, ("Figure", "Value"))]
    for heading, section_rows in sections:
        if section_rows:
            parts += [f"## {escape(heading)}", markdown_table(section_rows, ("Reason", "Invoices"))]
    notes = [f"- {escape(n)}" for n in notes]
    if notes:
        parts.append("\n".join(notes))
    return "\n\n".join(parts) + "\n"


def report_rows(method_label: str | None, headline: Mapping[str, Any], paths: Mapping[str, Any]) -> list[Row]:
    """The report's headline figures, each once, labelled as ``rcflow report`` prints them."""
    h = headline

    def counted(n: str, amount: str) -> str:
        return f"{count(h.get(n))} · {euros(h.get(amount))}"

    rows: list[Row] = [
        ("PMP method", method_label),
        ("Global PMP (days)", number(h.get("pmp_global"))),
        ("Paid in the period", counted("paid_count", "paid_amount")),
        ("Pending at the end", counted("pending_count", "pending_amount")),
        ("Paid late (Ley 15/2010)", counted("paid_late_count", "paid_late_amount")),
        ("Pending past the legal date", counted("pending_late_count", "pending_late_amount")),
        ("Art. 10 list (>3 months unrecognised)", counted("art10_count", "art10_amount")),
        ("Late-payment interest", counted("late_interest_count", "late_interest_amount")),
        ("Recovery costs (Ley 3/2004 art. 8)", euros(h.get("recovery_costs_amount"))),
        ("Interest days at a rate not yet published", h.get("late_interest_unrated_days")),
        ("Invoices in the warehouse", h.get("invoices")),
        ("With open quality findings (counted, flagged)", h.get("quarantined_count")),
        ("Out of the PMP scope (RD 635/2014 art. 3)", h.get("scope_excluded_count")),
        ("Credit notes (excluded)", h.get("credit_note_count")),
        ("Updates owed to the hub", h.get("updates_owed_to_hub")),
    ]
    rows += [(name, Path(str(paths[name]))) for name in ("report.html", "dashboard.html") if paths.get(name)]
    return rows


def publish(
    key: str,
    title: str,
    rows: Iterable[Row],
    notes: Iterable[str] = (),
    sections: Iterable[Section] = (),
) -> None:
    """From a synchronous flow."""
    create_markdown_artifact(key=key, markdown=render(title, rows, notes, sections), description=title)


async def apublish(
    key: str,
    title: str,
    rows: Iterable[Row],
    notes: Iterable[str] = (),
    sections: Iterable[Section] = (),
) -> None:
    """From an asynchronous flow."""
    await acreate_markdown_artifact(key=key, markdown=render(title, rows, notes, sections), description=title)


def per_hub(rows: Mapping[str, Sequence[Row]]) -> list[Row]:
    """One hub's rows as they are; several hubs' rows each labelled ``hub · label``."""
    if len(rows) == 1:
        return list(next(iter(rows.values())))
    return [(f"{hub} · {label}", value) for hub, hub_rows in rows.items() for label, value in hub_rows]
