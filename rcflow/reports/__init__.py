"""Compliance reports: PMP, morosity, Ley 25/2013 art. 10, eFACT obligations, late interest.

``build_reports`` runs the dbt project in ``reports/`` once over the warehouse snapshot and
writes CSV files, ``report.html`` and ``dashboard.html`` (and the legal PDFs), in Catalan, Spanish
or English (:mod:`rcflow.reports.i18n`: the Babel catalogues in ``reports/locales`` and the one
number/date formatter).
"""

from rcflow.reports.build import ReportResult, build_reports
from rcflow.reports.dbt_runner import ReportBuildError
from rcflow.reports.periods import Period, PeriodError, parse_period
from rcflow.reports.readings import ReadingError, Readings

__all__ = [
    "Period",
    "PeriodError",
    "ReadingError",
    "Readings",
    "ReportBuildError",
    "ReportResult",
    "build_reports",
    "parse_period",
]
