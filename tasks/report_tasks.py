"""Task: build the compliance reports (dbt) and the HTML pages."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from rcflow.config import Settings


@task(name="build-compliance-reports")
def build_compliance_reports(settings: Settings, period: str, out_dir: str):  # type: ignore[no-untyped-def]
    """dbt build for ``period``, then the CSVs, report.html and dashboard.html in ``out_dir``."""
    from rcflow.reports import build_reports
    from rcflow.reports.reference import reference_files

    return build_reports(settings.warehouse, period, Path(out_dir), lang=settings.language,
                         **reference_files(settings))
