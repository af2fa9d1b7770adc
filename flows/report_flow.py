"""Flow: compliance reports (PMP, morosity, art. 10, obligations, interest) and the dashboard."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from rcflow.relative_period import resolve_period
from tasks.artifacts import publish
from tasks.report_tasks import build_compliance_reports
from tasks.settings import flow_settings


def default_out_dir(warehouse: Path, period: str) -> Path:
    return warehouse.parent / "reports" / period


@flow(name="rcflow-report")
def report_flow(period: str = "last-month", out_dir: str | None = None) -> dict:
    """Build every report for ``period`` (``YYYY-MM``, ``YYYY-Qn``, ``last-month``, ``last-quarter``…)."""
    settings = flow_settings()
    label = resolve_period(period)
    target = Path(out_dir) if out_dir else default_out_dir(settings.warehouse, label)
    result = build_compliance_reports(settings, label, str(target))
    headline = result.to_dict()["headline"]
    publish(
        "rcflow-report",
        f"rcflow reports {label}",
        [
            ("method", result.method_label),
            *(
                (name.replace("_", " "), value)
                for name, value in headline.items()
                if not isinstance(value, dict | list)
            ),
            ("report", result.paths.get("report.html")),
            ("dashboard", result.paths.get("dashboard.html")),
        ],
    )
    return result.to_dict()


if __name__ == "__main__":
    report_flow()
