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
    blocking = report.blocking_failures
    publish(
        "rcflow-check",
        "rcflow data-quality checks",
        [
            ("verdict", "blocking failures: push and reports stop" if blocking else "passed"),
            ("expectations run", len(report.outcomes)),
            ("expectations failed", len(failed)),
            ("blocking failures", len(blocking)),
            ("quarantines for quality (invoice, reason)", sum(report.quarantined.values())),
            ("newly quarantined", report.newly_quarantined),
            ("resolved (now passing)", report.resolved),
            ("Data Docs", report.data_docs),
        ],
        [
            f"blocking, {o.suite_label} {o.expectation}: {o.error or f'{o.unexpected_count} unexpected'}"
            for o in blocking
        ],
        [
            ("Quarantined, by reason", sorted(report.quarantined.items())),
            ("Flagged (never quarantined), by reason", sorted(report.flagged.items())),
        ],
    )
    raise_if_blocking(report)
    return summary


if __name__ == "__main__":
    check_flow()
