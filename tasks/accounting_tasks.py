"""Task: load accounting-system files before a push."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from rcflow.config import Settings
from rcflow.push.run import run_import


@task(name="import-accounting-events")
def import_accounting(settings: Settings, files: list[str]) -> list[dict]:
    """Load accounting files (each all-or-nothing) before the push."""
    return [r.as_dict() for r in run_import(settings, [Path(f) for f in files])]
