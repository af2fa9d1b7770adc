"""Task: run the Great Expectations suites on the warehouse."""

from __future__ import annotations

from prefect import task

from rcflow.config import Settings


@task(name="run-quality-checks")
def run_quality_checks(settings: Settings, run_id: str | None = None):  # type: ignore[no-untyped-def]
    """Validate invoices, histories and accounting events; quarantine what fails."""
    from rcflow.quality import run_checks

    return run_checks(settings.warehouse, run_id=run_id, lock_timeout=settings.lock_timeout)
