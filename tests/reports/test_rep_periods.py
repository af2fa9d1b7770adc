"""Period parsing, trends and method selection (no dbt needed)."""

from __future__ import annotations

from datetime import date

import pytest

from rcflow.reports import Period, PeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end", "label", "kind"),
    [
        ("2025-10", date(2025, 10, 1), date(2025, 10, 31), "2025-10", "month"),
        ("2024-2", date(2024, 2, 1), date(2024, 2, 29), "2024-02", "month"),
        ("2025-12", date(2025, 12, 1), date(2025, 12, 31), "2025-12", "month"),
        (" 2025-Q4 ", date(2025, 10, 1), date(2025, 12, 31), "2025-Q4", "quarter"),
        ("2025-q1", date(2025, 1, 1), date(2025, 3, 31), "2025-Q1", "quarter"),
    ],
)
def test_parse_period(text, start, end, label, kind):
    """Months and quarters parse to their first and last day, with a canonical label."""
    assert parse_period(text) == Period(start, end, label, kind)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13", "no month 13"),
        ("2025-Q5", "not a month or a quarter"),
        ("Q4-2025", "not a month or a quarter"),
        ("", "not a month or a quarter"),
        ("2013-12", "starts in 2014"),
    ],
)
def test_parse_period_errors(text, message):
    """Bad periods fail with a message that says what to write."""
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_trend_series():
    """A month's trend is the 12 months ending with it; a quarter's, the 4 quarters."""
    months = parse_period("2025-03").trend()
    assert [p.label for p in months][:2] == ["2024-04", "2024-05"] and len(months) == 12
    assert months[-1].label == "2025-03"
    quarters = parse_period("2025-Q1").trend()
    assert [p.label for p in quarters] == ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]


def test_method_switches_in_april_2018():
    """RD 1040/2017 applies from 04/2018; the original RD 635/2014 before."""
    assert parse_period("2018-03").pmp_method == "rd635_2014_original"
    assert parse_period("2018-Q1").pmp_method == "rd635_2014_original"
    assert parse_period("2018-04").pmp_method == "rd1040_2017"
    assert parse_period("2018-Q2").pmp_method == "rd1040_2017"
