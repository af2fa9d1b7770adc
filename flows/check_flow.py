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
    summary = report.as_dict()
    failed = [o for o in report.outcomes if not o.success]
    publish(
        "rcflow-check",
        "rcflow data-quality checks",
        [
            ("verdict", report.reason()),
            ("expectations run", len(report.outcomes)),
            ("expectations failed", len(failed)),
            ("blocking failures", len(report.blocking_failures)),
            ("invoices quarantined (by reason)", sum(report.quarantined.values())),
            ("newly quarantined / resolved", f"{report.newly_quarantined} / {report.resolved}"),
            ("data docs", report.data_docs),
        ],
        [f"quarantined, {reason}: {n}" for reason, n in report.quarantined.items()]
        + [f"flagged, {reason}: {n}" for reason, n in report.flagged.items()],
    )
    raise_if_blocking(report)
    return summary


if __name__ == "__main__":
    check_flow()
