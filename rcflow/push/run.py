"""Entry points for the push and the accounting import (used by the CLI and the flows)."""

from __future__ import annotations

from pathlib import Path

from rcflow.config import Settings
from rcflow.hub import HubClient
from rcflow.push.accounting import ImportResult, ReadOptions, import_events
from rcflow.push.execute import PushSummary, push
from rcflow.push.plan import PushPlan, plan_from_warehouse
from rcflow.runs import finish_run, new_run_id, start_run
from rcflow.warehouse import Warehouse


async def run_push(settings: Settings) -> PushSummary:
    """Reconcile and push what the hub is owed; every call lands in ``ops.push_audit``."""
    settings.require_hub()
    run_id = new_run_id("push")
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh:
        start_run(wh, run_id, "push")
        summary = PushSummary(run_id=run_id)
        try:
            async with HubClient.from_settings(settings) as hub:
                summary = await push(hub, wh, run_id)
        finally:
            finish_run(wh, run_id, ok=summary.ok, summary=summary.as_dict())
    return summary


def plan_push(settings: Settings) -> PushPlan:
    """The plan a push would execute now, from the warehouse alone (no hub call)."""
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout, publish=False) as wh:
        return plan_from_warehouse(wh)


def run_import(
    settings: Settings, files: list[Path], options: ReadOptions | None = None
) -> list[ImportResult]:
    """Import accounting files, each all-or-nothing; stops at the first refused file."""
    results = []
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh:
        for path in files:
            results.append(import_events(wh, path, options=options))
    return results
