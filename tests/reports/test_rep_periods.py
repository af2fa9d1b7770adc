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
        ("last-week", "not a month or a quarter"),
        ("previous-month", "not a month or a quarter"),
    ],
)
def test_parse_period_errors(text, message):
    """Bad periods fail with a message that says what to write."""
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_a_wrong_period_names_every_form_it_could_be():
    """One message for every command: the explicit forms and the relative ones."""
    with pytest.raises(PeriodError) as caught:
        parse_period("2025/10")
    for form in ("YYYY-MM (2025-10)", "YYYY-Qn (2025-Q4)", "last-month", "current-month",
                 "last-quarter", "current-quarter"):  # fmt: skip
        assert form in str(caught.value)


@pytest.mark.parametrize(
    ("text", "today", "label", "kind"),
    [
        ("last-month", date(2026, 1, 5), "2025-12", "month"),
        ("current-month", date(2026, 1, 5), "2026-01", "month"),
        ("last-quarter", date(2026, 1, 5), "2025-Q4", "quarter"),
        ("current-quarter", date(2026, 1, 5), "2026-Q1", "quarter"),
        ("last-month", date(2025, 3, 31), "2025-02", "month"),
        ("last-quarter", date(2025, 9, 30), "2025-Q2", "quarter"),
        (" Last-Quarter ", date(2025, 7, 1), "2025-Q2", "quarter"),
    ],
)
def test_relative_periods(text, today, label, kind):
    """Relative periods are the month or quarter containing today, or the one before it."""
    period = parse_period(text, today)
    assert (period.label, period.kind) == (label, kind)
    assert period == parse_period(label)  # the same Period as the explicit form


def test_relative_periods_default_to_madrid_today():
    from rcflow import clock

    with clock.pinned("2026-03-31T22:30:00Z"):  # already 1 April in Madrid
        assert parse_period("current-month").label == "2026-04"
        assert parse_period("last-quarter").label == "2026-Q1"


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
