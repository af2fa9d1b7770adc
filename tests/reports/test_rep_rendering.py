"""Readings, number formatting and the SVG charts (pure Python)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from rcflow.reports import ReadingError, Readings
from rcflow.reports.charts import Series, bar_chart, line_chart, nice_ticks
from rcflow.reports.i18n import CONSOLE, Formatter

CA, ES, EN = Formatter("ca"), Formatter("es"), Formatter("en")


def test_readings_defaults_travel_to_dbt_as_vars():
    """The defaults are the §4 readings and every one is described for the report."""
    readings = Readings()
    assert readings.to_vars()["pending_without_acceptance"] == "include_from_registry"
    assert readings.to_vars()["credit_notes"] == "exclude_and_flag"
    assert all(row["meaning"] for row in readings.describe())


@pytest.mark.parametrize(
    "kwargs",
    [{"pmp_method": "rd2030"}, {"credit_notes": "net"}, {"partial_payments": "per_instalment"},
     {"annotation_overdue_days": 0}],
)
def test_readings_refuse_unknown_values(kwargs):
    """A reading rcflow does not implement is refused, not silently ignored."""
    with pytest.raises(ReadingError):
        Readings(**kwargs)


@pytest.mark.parametrize(
    ("value", "text"),
    [(31.818181, "31,82"), (-0.3333, "-0,33"), (22, "22,00"), (Decimal("0.005"), "0,01"),
     (Decimal("31.825"), "31,83"), (1234567.891, "1.234.567,89"), (None, "n/d")],
)
def test_numbers_use_the_decimal_comma(value, text):
    """Catalan and Spanish formatting: decimal comma, dot thousands, half-up rounding."""
    assert CA.number(value) == ES.number(value) == text


def test_money_counts_and_short_amounts_per_language():
    assert CA.euros(Decimal("6000")) == ES.euros(6000) == "6.000,00\u00a0€"
    assert EN.euros(Decimal("6000")) == "€6,000.00" and EN.number(Decimal("-0.005")) == "-0.01"
    assert CA.count(12345) == "12.345" and EN.count(12345) == "12,345"
    assert CA.compact_euros(1475461424) == "1.475,5\u00a0M€" and CA.compact_euros(8532) == "8.532\u00a0€"
    assert EN.compact_euros(1475461424) == "€1,475.5M" and EN.compact_euros(8532) == "€8,532"
    assert CONSOLE.number(None) == "n/a" and CONSOLE.euros(1234.5) == "1.234,50\u00a0€"


def test_nice_ticks_cover_the_range():
    ticks = nice_ticks(-3, 47)
    assert ticks[0] <= -3 and ticks[-1] >= 47 and len(ticks) <= 8


def test_line_chart_is_valid_svg_with_gaps_and_breaks():
    """The trend chart parses as XML, escapes names, leaves gaps and draws the method break."""
    svg = line_chart(
        ["2018-Q1", "2018-Q2", "2018-Q3"],
        [Series("All <entities>", [12.5, None, 31.0], emphasis=True), Series("B&B", [1, 2, 3])],
        breaks=[1], fmt=CA, break_label="canvi de mètode",
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 1  # the gap splits the first series in dots
    assert len(root.findall(f"{ns}circle")) == 5
    assert "canvi de mètode" in svg and "All &lt;entities&gt;" in svg and "B&amp;B" in svg
    assert "12,50 days" in svg  # the point's tooltip, in the formatter's locale


def test_bar_chart_is_valid_svg():
    svg = bar_chart([("Paid", 4, "4"), ("Rejected", 1, "1")])
    root = ET.fromstring(svg)
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 2
