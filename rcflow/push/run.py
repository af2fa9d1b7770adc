"""Entry points for the push and the accounting import (used by the CLI and the flows).

``run_push`` pushes to one hub (one recorded run); ``push_hubs`` to each selected hub in turn, a
hub's failure kept without stopping the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from rcflow.config import HUBS, Settings
from rcflow.connectors.registry import check_hubs, connect, one_hub
from rcflow.push.accounting import ImportRefused, ImportResult, ReadOptions, import_events
from rcflow.push.execute import PushSummary, left_pending, push
from rcflow.push.plan import PushPlan, plan_from_warehouse
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id, recorded_run, warehouse_failed

log = logging.getLogger("rcflow.push")


async def run_push(
    settings: Settings, *, hub: str | None = None, summary: PushSummary | None = None
) -> PushSummary:
    """Reconcile and push what ``hub`` (or the one configured hub) is owed; every call lands in
    ``ops.push_audit``.

    An interrupted or failed push is recorded with what it did: the updates whose answer was
    recorded, and those left pending (sent or not: the next run asks the hub before deciding).
    """
    name = one_hub(settings, hub)
    check_hubs(settings, name)
    summary = summary or PushSummary(run_id=new_run_id(f"push-{name}"))
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh:

        def final() -> dict[str, object]:
            summary.left_pending = left_pending(wh, summary.run_id)
            return {**summary.as_dict(), "source": name}

        with recorded_run(wh, summary.run_id, "push", summary=final, ok=lambda: summary.ok):
            # A push downloads nothing (no blob store); FACe's writes name each invoice's office.
            connector = connect(settings, None, name, office_of=_offices(wh, name).get)
            try:
                await push(connector, wh, summary.run_id, summary=summary)
            finally:
                await connector.aclose()
    return summary


def _offices(wh: Warehouse, hub: str) -> dict[str, str]:
    """``hub``'s invoices and their accounting office (DIR3), as stored at their download."""
    rows = wh.fetch("select invoice_id, accounting_office from raw.invoices where source_hub = ?"
                    " and accounting_office is not null", [hub])  # fmt: skip
    return {invoice_id: office for invoice_id, office in rows}


@dataclass
class HubPushes:
    """What one push did on each hub: a summary per hub (a failed hub's counts what it did) and
    the error of each hub that failed."""

    summaries: dict[str, PushSummary] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and all(s.ok for s in self.summaries.values())

    def as_dict(self) -> dict[str, object]:
        """Counts added up and lists joined under one hub's keys, plus ``hubs`` and ``failed_hubs``."""
        each = {h: s.as_dict() for h, s in self.summaries.items()}
        total: dict[str, object] = {"run_id": ",".join(s.run_id for s in self.summaries.values())}
        for key in ("owed", "pushed", "confirmed_already_on_hub", "left_pending", "requests"):
            total[key] = sum(getattr(s, key) for s in self.summaries.values())
        total["seconds"] = round(sum(s.seconds for s in self.summaries.values()), 3)
        for key in ("refused", "failed", "discrepancies"):
            total[key] = [{**item, "hub": h} for h, s in self.summaries.items() for item in getattr(s, key)]
        total["blocked"] = {i: why for s in self.summaries.values() for i, why in s.blocked.items()}
        by_state: dict[str, int] = {}
        for s in self.summaries.values():
            for state, n in s.pushed_by_state.items():
                by_state[state] = by_state.get(state, 0) + n
        total["pushed_by_state"] = by_state
        errors = {h: (str(e).strip().splitlines() or [type(e).__name__])[0] for h, e in self.errors.items()}
        return {**total, "ok": self.ok, "hubs": each, "failed_hubs": errors}


async def push_hubs(settings: Settings, *, hub: str | None = None) -> HubPushes:
    """:func:`run_push` to ``hub``, or to each configured hub in turn."""
    pushes = HubPushes()
    for name in check_hubs(settings, hub):  # every configuration problem named before any push
        summary = pushes.summaries[name] = PushSummary(run_id=new_run_id(f"push-{name}"))
        try:
            await run_push(settings, hub=name, summary=summary)
        except Exception as exc:
            if warehouse_failed(exc):
                raise
            log.warning("push to %s failed: %s", name, exc)
            pushes.errors[name] = exc
    return pushes


def planned_hubs(settings: Settings, hub: str | None = None) -> tuple[str, ...]:
    """The hubs a dry run plans: ``hub``, the configured ones, or (none configured: a plan needs
    only the warehouse) those the warehouse holds invoices of."""
    if hub is not None or settings.configured_hubs():
        return settings.select_hubs(hub)
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout, publish=False) as wh:
        found = {row[0] for row in wh.fetch("select distinct source_hub from raw.invoices")}
    return tuple(h for h in HUBS if h in found) or HUBS[:1]


def plan_push(settings: Settings, *, hub: str | None = None) -> PushPlan:
    """The plan a push to ``hub`` (``None``: every hub's invoices) would execute now, from the
    warehouse alone (no hub call)."""
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout, publish=False) as wh:
        return plan_from_warehouse(wh, hub=hub)


def import_until_refused(
    settings: Settings, files: list[Path], options: ReadOptions | None = None
) -> tuple[list[ImportResult], ImportRefused | None]:
    """Import accounting files in order, each all-or-nothing in its own transaction, until one is
    refused: the files imported (they stay), and the refusal, if any (the files after it unread)."""
    results: list[ImportResult] = []
    with Warehouse(settings.warehouse, lock_timeout=settings.lock_timeout) as wh:
        for path in files:
            try:
                results.append(import_events(wh, path, options=options))
            except ImportRefused as refused:
                return results, refused
    return results, None


def run_import(
    settings: Settings, files: list[Path], options: ReadOptions | None = None
) -> list[ImportResult]:
    """Import accounting files, each all-or-nothing; raises ``ImportRefused`` at the first refused
    file (those before it stay imported)."""
    results, refused = import_until_refused(settings, files, options)
    if refused is not None:
        raise refused
    return results
