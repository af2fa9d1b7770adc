"""Reporting periods: a calendar month (``2025-10``) or quarter (``2025-Q4``), or one named relative
to today in Madrid (``last-month``, ``current-quarter``…).

The one period parser: every command, flow and library function that takes a period reads it
with :func:`parse_period`. Imports only :mod:`rcflow.clock`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from rcflow import clock

PeriodKind = Literal["month", "quarter"]

# RD 1040/2017 changed where the PMP count starts for data from 1 April 2018 on.
NEW_METHOD_FROM = date(2018, 4, 1)
# RD 635/2014: the PMP covers invoices from 2014 on; nothing earlier can be reported.
FIRST_REPORTABLE_YEAR = 2014

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
# Relative periods (for schedules): the period containing a day relative to today.
RELATIVE = ("current-month", "last-month", "current-quarter", "last-quarter")
FORMS = "YYYY-MM (2025-10), YYYY-Qn (2025-Q4), " + ", ".join(RELATIVE)


class PeriodError(ValueError):
    """A period string that is not a reportable month or quarter."""


@dataclass(frozen=True)
class Period:
    """A closed range of calendar days ``start..end`` with its label (``2025-Q4``)."""

    start: date
    end: date
    label: str
    kind: PeriodKind

    @property
    def pmp_method(self) -> str:
        """The PMP method the law applies to this period (never mixed within a period)."""
        return "rd1040_2017" if self.start >= NEW_METHOD_FROM else "rd635_2014_original"

    def trend(self) -> list[Period]:
        """The series ending with this period: 12 months or 4 quarters."""
        count = 12 if self.kind == "month" else 4
        periods = [self]
        while len(periods) < count:
            periods.insert(0, periods[0].previous())
        return periods

    def previous(self) -> Period:
        return _period_containing(self.start - timedelta(days=1), self.kind)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _period_containing(day: date, kind: PeriodKind) -> Period:
    if kind == "month":
        return Period(
            date(day.year, day.month, 1),
            _month_end(day.year, day.month),
            f"{day.year}-{day.month:02d}",
            "month",
        )
    quarter = (day.month - 1) // 3 + 1
    first_month = 3 * quarter - 2
    return Period(
        date(day.year, first_month, 1),
        _month_end(day.year, first_month + 2),
        f"{day.year}-Q{quarter}",
        "quarter",
    )


def parse_period(text: str, today: date | None = None) -> Period:
    """Read ``YYYY-MM`` (a month), ``YYYY-Qn`` (a quarter) or a relative period.

    Relative periods count from ``today`` (default: :func:`rcflow.clock.today`, Madrid's date).

    >>> parse_period("2025-Q1").end
    datetime.date(2025, 3, 31)
    >>> parse_period("last-quarter", date(2026, 1, 5)).label
    '2025-Q4'
    """
    value = text.strip()
    if value.lower() in RELATIVE:
        return _relative(value.lower(), today or clock.today())
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: there is no month {month}")
        period = _period_containing(date(year, month, 1), "month")
    elif match := _QUARTER.match(value):
        year, quarter = int(match[1]), int(match[2])
        period = _period_containing(date(year, 3 * quarter, 1), "quarter")
    else:
        raise PeriodError(f"period {text!r} is not a month or a quarter: write {FORMS}")
    if year < FIRST_REPORTABLE_YEAR:
        raise PeriodError(
            f"period {text!r}: PMP reporting starts in {FIRST_REPORTABLE_YEAR} (RD 635/2014)"
        )
    return period


def _relative(name: str, today: date) -> Period:
    kind: PeriodKind = "month" if name.endswith("month") else "quarter"
    current = _period_containing(today, kind)
    return current if name.startswith("current") else current.previous()
