"""Flow: ingest pending invoices, attachments and state histories from the eFACT hub."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.artifacts import apublish
from tasks.hub_tasks import sync_hub
from tasks.settings import aflow_settings


@flow(name="rcflow-sync", log_prints=False)
async def sync_flow(
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    secret_block: str | None = None,
) -> dict:
    """Sync the hub into the warehouse; never acknowledges what is not durably stored."""
    settings = await aflow_settings(secret_block)
    summary = await sync_hub(settings, nif=nif, office=office, refresh=refresh)
    await apublish(
        "rcflow-sync",
        "rcflow sync",
        summary.rows(),
        ([f"stopped early: {summary.stopped_early}"] if summary.stopped_early else [])
        + [f"deferred {d['invoice_id']}: {d['reason']}" for d in summary.deferred[:20]]
        + ([f"… and {len(summary.deferred) - 20} more deferred"] if len(summary.deferred) > 20 else []),
    )
    if not summary.ok:
        get_run_logger().warning(
            "sync finished with %d deferred item(s); they stay on the hub for the next run",
            len(summary.deferred),
        )
    return summary.as_dict()


if __name__ == "__main__":
    import asyncio

    asyncio.run(sync_flow())
