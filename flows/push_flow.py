"""Flow: push ANNOTATED / RECOGNISED / PAID / REJECTED (and optional states) to the hub."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.artifacts import apublish
from tasks.hub_tasks import push_updates
from tasks.settings import aflow_settings


@flow(name="rcflow-push")
async def push_flow(secret_block: str | None = None) -> dict:
    """Reconcile accounting events with the hub history and push what is owed, exactly once."""
    settings = await aflow_settings(secret_block)
    summary = await push_updates(settings)
    blocking = [d for d in summary.discrepancies if d["blocking"]]
    await apublish(
        "rcflow-push",
        "rcflow push",
        [
            ("updates owed", summary.owed),
            ("pushed", summary.pushed),
            *((f"pushed {state}", n) for state, n in sorted(summary.pushed_by_state.items())),
            ("hub requests", summary.requests),
            ("time", f"{summary.seconds:.1f} s"),
            ("already on the hub (confirmed)", summary.confirmed_already_on_hub),
            ("refused by the hub", len(summary.refused)),
            ("failed (owed next run)", len(summary.failed)),
            ("held back (quarantine or an unchanged refusal)", len(summary.blocked)),
            ("discrepancies", len(blocking)),
        ],
        [f"refused {r['invoice_id']} {r['state']}: {r['reason']}" for r in summary.refused[:20]]
        + [f"held back {i}: {why}" for i, why in list(summary.blocked.items())[:20]]
        + [f"discrepancy {d['invoice_id']} {d['state']}: {d['reason']}" for d in blocking[:20]],
    )
    if not summary.ok:
        get_run_logger().warning("%d update(s) could not be pushed; owed next run", len(summary.failed))
    return summary.as_dict()


if __name__ == "__main__":
    import asyncio

    asyncio.run(push_flow())
