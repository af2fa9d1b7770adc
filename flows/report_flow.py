"""Flow: compliance reports (PMP, morosity, art. 10, obligations, interest) and the dashboard."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from rcflow.reports.periods import parse_period
from tasks.artifacts import publish, report_rows
from tasks.report_tasks import build_compliance_reports
from tasks.settings import flow_settings


def default_out_dir(warehouse: Path, period: str) -> Path:
    return warehouse.parent / "reports" / period


@flow(name="rcflow-report")
def report_flow(period: str = "last-month", out_dir: str | None = None) -> dict:
    """Build every report for ``period`` (``YYYY-MM``, ``YYYY-Qn``, ``last-month``, ``last-quarter``…)."""
    settings = flow_settings()
    label = parse_period(period).label
    target = Path(out_dir) if out_dir else default_out_dir(settings.warehouse, label)
    result = build_compliance_reports(settings, label, str(target))
    publish(
        "rcflow-report",
        f"rcflow reports {label}",
        report_rows(result.method_label, result.headline, result.paths),
    )
    return result.to_dict()


if __name__ == "__main__":
    report_flow()
