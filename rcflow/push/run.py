"""Entry points for the push and the accounting import (used by the CLI and the flows)."""

from __future__ import annotations

from pathlib import Path

from rcflow.config import Settings
from rcflow.connectors.registry import connect
from rcflow.push.accounting import ImportResult, ReadOptions, import_events
from rcflow.push.execute import PushSummary, left_pending, push
from rcflow.push.plan import PushPlan, plan_from_warehouse
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id, recorded_run


async def run_push(settings: Settings) -> PushSummary:
    """Reconcile and push what the hub is owed; every call lands in ``ops.push_audit``.

    An interrupted or failed push is recorded with what it did: the updates whose answer was
    recorded, and those left pending (sent or not: the next run asks the hub before deciding).
    """
    settings.require_hub()
    summary = PushSummary(run_id=new_run_id("push"))
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh:

        def final() -> dict[str, object]:
            summary.left_pending = left_pending(wh, summary.run_id)
            return summary.as_dict()

        with recorded_run(wh, summary.run_id, "push", summary=final, ok=lambda: summary.ok):
            connector = connect(settings, None)  # a push downloads nothing: no blob store opened
            try:
                await push(connector, wh, summary.run_id, summary=summary)
            finally:
                await connector.aclose()
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
