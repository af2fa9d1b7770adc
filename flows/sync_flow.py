"""Flow: ingest pending invoices, attachments and state histories from each configured hub."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.artifacts import apublish, per_hub
from tasks.hub_tasks import sync_hub
from tasks.settings import aflow_settings


@flow(name="rcflow-sync", log_prints=False)
async def sync_flow(
    hub: str | None = None,
    nif: str | None = None,
    office: str | None = None,
    refresh: bool = True,
    secret_block: str | None = None,
    face_password_block: str | None = None,
) -> dict:
    """Sync ``hub`` (efact, face; default: every configured hub) into the warehouse; never
    acknowledges what is not durably stored. A hub that failed fails the run, after the others ran."""
    settings = await aflow_settings(secret_block, face_password_block)
    runs = await sync_hub(settings, hub=hub, nif=nif, office=office, refresh=refresh)
    deferred = runs.total.deferred
    await apublish(
        "rcflow-sync",
        "rcflow sync",
        per_hub({h: s.rows() for h, s in runs.summaries.items()}),
        [f"{h} failed: {line}" for h, line in runs.as_dict()["failed_hubs"].items()]  # type: ignore[attr-defined]
        + [f"stopped early: {s.stopped_early}" for s in runs.summaries.values() if s.stopped_early]
        + [f"deferred {d['invoice_id']}: {d['reason']}" for d in deferred[:20]]
        + ([f"… and {len(deferred) - 20} more deferred"] if len(deferred) > 20 else []),
    )
    if deferred:
        get_run_logger().warning(
            "sync finished with %d deferred item(s); they stay on the hub for the next run", len(deferred)
        )
    for error in runs.errors.values():
        raise error
    return runs.as_dict()


if __name__ == "__main__":
    import asyncio

    asyncio.run(sync_flow())
