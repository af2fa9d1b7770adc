"""The Prefect artifacts' markdown: readable tables of the headline figures (no Prefect server)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tasks.artifacts import cell, render, report_rows

HEADLINE = {
    "pmp_global": Decimal("31.8181"),
    "paid_ratio": 30.5,
    "pending_ratio": 40.1,
    "paid_count": 1234,
    "paid_amount": Decimal("1234567.891"),
    "pending_count": 12,
    "pending_amount": 800.0,
    "method": "rd1040_2017",
    "method_label": "RD 1040/2017",
    "start_inferred_count": 0,
    "negative_days_count": 0,
    "paid_late_count": 3,
    "paid_late_amount": 150.25,
    "pending_late_count": 1,
    "pending_late_amount": None,
    "invoices": 2000,
    "quarantined_count": 5,
    "credit_note_count": 2,
    "invoices_owing_hub": 0,
    "updates_owed_to_hub": 0,
    "art10_count": 0,
    "art10_amount": None,
    "late_interest_count": 0,
    "late_interest_amount": None,
    "recovery_costs_amount": None,
    "late_interest_unrated_days": 0,
    "scope_excluded_count": 0,
    "obligations_count": 7,
}


def table(markdown: str) -> dict[str, str]:
    """``| label | value |`` rows of a rendered artifact, as a dict."""
    rows = [line.strip("|").split(" | ") for line in markdown.splitlines() if line.startswith("| ")]
    return {label.strip(): value.strip() for label, value in rows[1:]}


def test_report_artifact_is_a_table_of_headline_figures_each_once() -> None:
    paths = {"report.html": Path("/srv/rcflow/data/reports/2026-11/report.html"), "pmp.csv": Path("x")}
    markdown = render("rcflow reports 2026-11", report_rows("RD 1040/2017 (payment dates)", HEADLINE, paths))
    assert markdown.startswith("# rcflow reports 2026-11\n\n| Figure | Value |\n|---|---:|\n")
    rows = table(markdown)
    assert rows["PMP method"] == "RD 1040/2017 (payment dates)"
    assert rows["Global PMP (days)"] == "31,82"
    assert rows["Paid in the period"] == "1.234 · 1.234.567,89\u00a0€"
    assert rows["Pending past the legal date"] == "1 · n/a"
    assert rows["report.html"] == "`/srv/rcflow/data/reports/2026-11/report.html`"
    assert "dashboard.html" not in rows  # no path, no row
    assert "None" not in markdown and "method" not in rows and "rd1040_2017" not in markdown
    labels = [line.split(" | ")[0] for line in markdown.splitlines() if line.startswith("| ")]
    assert len(labels) == len(set(labels))


def test_values_and_hub_text_cannot_break_the_table() -> None:
    assert cell(None) == "n/a"
    assert cell(True) == "yes"
    assert cell(12345) == "12.345"
    assert cell(2.5) == "2,50"
    hostile = "a | b\n<script>alert(1)</script> `x`"
    markdown = render("t", [("reason", hostile)], notes=[f"deferred 1: {hostile}"])
    assert "<script>" not in markdown and "\n<" not in markdown
    assert table(markdown)["reason"] == "a \\| b &lt;script&gt;alert(1)&lt;/script&gt; 'x'"
    assert markdown.rstrip().endswith("- deferred 1: a \\| b &lt;script&gt;alert(1)&lt;/script&gt; 'x'")


def test_sections_render_only_when_they_have_rows() -> None:
    markdown = render(
        "checks",
        [("expectations run", 40)],
        sections=[("Quarantined, by reason", [("xml_matches_hub", 3)]), ("Flagged, by reason", [])],
    )
    expected = "## Quarantined, by reason\n\n| Reason | Invoices |\n|---|---:|\n| xml_matches_hub | 3 |"
    assert expected in markdown
    assert "Flagged" not in markdown
