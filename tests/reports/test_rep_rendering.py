"""Readings, number formatting and the SVG charts (pure Python)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from rcflow.reports import ReadingError, Readings
from rcflow.reports.charts import Series, bar_chart, line_chart, nice_ticks
from rcflow.reports.formatting import count, euros, number


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
     (1234567.891, "1.234.567,89"), (None, "n/a")],
)
def test_numbers_use_the_decimal_comma(value, text):
    """Spanish/Catalan formatting: decimal comma, dot thousands, half-up rounding."""
    assert number(value) == text


def test_money_and_counts():
    assert euros(Decimal("6000")) == "6.000,00\u00a0€"
    assert count(12345) == "12.345"


def test_nice_ticks_cover_the_range():
    ticks = nice_ticks(-3, 47)
    assert ticks[0] <= -3 and ticks[-1] >= 47 and len(ticks) <= 8


def test_line_chart_is_valid_svg_with_gaps_and_breaks():
    """The trend chart parses as XML, escapes names, leaves gaps and draws the method break."""
    svg = line_chart(
        ["2018-Q1", "2018-Q2", "2018-Q3"],
        [Series("All <entities>", [12.5, None, 31.0], emphasis=True), Series("B&B", [1, 2, 3])],
        breaks=[1],
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}polyline")) == 1  # the gap splits the first series in dots
    assert len(root.findall(f"{ns}circle")) == 5
    assert "method change" in svg and "All &lt;entities&gt;" in svg and "B&amp;B" in svg


def test_bar_chart_is_valid_svg():
    svg = bar_chart([("Paid", 4, "4"), ("Rejected", 1, "1")])
    root = ET.fromstring(svg)
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 2
