"""Flow: Great Expectations suites over the warehouse; failures quarantine, blocking ones fail."""

from __future__ import annotations

from prefect import flow

from tasks.artifacts import publish
from tasks.quality_tasks import run_quality_checks
from tasks.settings import flow_settings


@flow(name="rcflow-check")
def check_flow() -> dict:
    """Validate invoices, state histories and accounting events; quarantine what fails."""
    from rcflow.quality import raise_if_blocking

    settings = flow_settings()
    report = run_quality_checks(settings)
    summary = report.to_dict()
    publish(
        "rcflow-check",
        "rcflow data-quality checks",
        [
            ("expectations run", summary.get("expectations")),
            ("failed", summary.get("failed")),
            ("blocking failures", len(summary.get("blocking_failures") or [])),
            ("invoices quarantined", summary.get("quarantined_invoices")),
            ("data docs", summary.get("data_docs")),
        ],
        [f"{reason}: {n}" for reason, n in (summary.get("quarantined_by_reason") or {}).items()],
    )
    raise_if_blocking(report)
    return summary


if __name__ == "__main__":
    check_flow()
