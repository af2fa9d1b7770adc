"""Tasks that talk to the hub: sync, backfill, push."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from prefect import task

from rcflow.config import Settings
from rcflow.ingest.run import run_backfill, run_sync
from rcflow.ingest.sync import SyncSummary
from rcflow.push.execute import PushSummary
from rcflow.push.run import run_push


@task(name="sync-hub", retries=0)
async def sync_hub(
    settings: Settings,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    refresh_age_minutes: int = 60,
) -> SyncSummary:
    """Drain pending invoices and attachments, acknowledge what is stored, refresh states."""
    return await run_sync(
        settings,
        nif=nif,
        office=office,
        refresh=refresh,
        refresh_age=timedelta(minutes=refresh_age_minutes),
    )


@task(name="backfill-invoices")
async def backfill_invoices(settings: Settings, ids: Sequence[str]) -> SyncSummary:
    """Fetch invoices by hub id (not in the pending list; never acknowledged)."""
    return await run_backfill(settings, ids)


@task(name="push-updates")
async def push_updates(settings: Settings) -> PushSummary:
    """Reconcile accounting with the hub and push what is owed, through the outbox."""
    return await run_push(settings)
