"""Tasks that talk to the hubs: sync, backfill, push (each configured hub, or the one named)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from prefect import task

from rcflow.config import Settings
from rcflow.ingest.run import HubRuns, backfill_hubs, sync_hubs
from rcflow.push.run import HubPushes, push_hubs


@task(name="sync-hub", retries=0)
async def sync_hub(
    settings: Settings,
    hub: str | None = None,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    refresh_age_minutes: int = 60,
) -> HubRuns:
    """Drain pending invoices and attachments, acknowledge what is stored, refresh states."""
    return await sync_hubs(
        settings,
        hub=hub,
        nif=nif,
        office=office,
        refresh=refresh,
        refresh_age=timedelta(minutes=refresh_age_minutes),
    )


@task(name="backfill-invoices")
async def backfill_invoices(settings: Settings, ids: Sequence[str], hub: str | None = None) -> HubRuns:
    """Fetch invoices by hub id (not in the pending list; never acknowledged)."""
    return await backfill_hubs(settings, ids, hub=hub)


@task(name="push-updates")
async def push_updates(settings: Settings, hub: str | None = None) -> HubPushes:
    """Reconcile accounting with the hub and push what is owed, through the outbox."""
    return await push_hubs(settings, hub=hub)
