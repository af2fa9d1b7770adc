"""Flow: push ANNOTATED / RECOGNISED / PAID / REJECTED (and optional states) to each hub."""

from __future__ import annotations

from prefect import flow, get_run_logger

from tasks.artifacts import apublish, per_hub
from tasks.hub_tasks import push_updates
from tasks.settings import aflow_settings


@flow(name="rcflow-push")
async def push_flow(
    hub: str | None = None, secret_block: str | None = None, face_password_block: str | None = None
) -> dict:
    """Reconcile accounting events with each hub's history (``hub``, or every configured one) and
    push what is owed, exactly once. A hub that failed fails the run, after the others ran."""
    settings = await aflow_settings(secret_block, face_password_block)
    pushes = await push_updates(settings, hub=hub)
    summary = pushes.as_dict()
    refused, blocked = summary["refused"], summary["blocked"]
    blocking = [d for d in summary["discrepancies"] if d["blocking"]]  # type: ignore[attr-defined]
    rows = {
        h: [
            ("updates owed", s.owed),
            ("pushed", s.pushed),
            *((f"pushed {state}", n) for state, n in sorted(s.pushed_by_state.items())),
            ("hub requests", s.requests),
            ("time", f"{s.seconds:.1f} s"),
            ("already on the hub (confirmed)", s.confirmed_already_on_hub),
            ("refused by the hub", len(s.refused)),
            ("failed (owed next run)", len(s.failed)),
            ("held back (quarantine or an unchanged refusal)", len(s.blocked)),
            ("discrepancies", sum(1 for d in s.discrepancies if d["blocking"])),
        ]
        for h, s in pushes.summaries.items()
    }
    await apublish(
        "rcflow-push",
        "rcflow push",
        per_hub(rows),
        [f"{h} failed: {line}" for h, line in summary["failed_hubs"].items()]  # type: ignore[attr-defined]
        + [f"refused {r['invoice_id']} {r['state']}: {r['reason']}" for r in refused[:20]]  # type: ignore[index]
        + [f"held back {i}: {why}" for i, why in list(blocked.items())[:20]]  # type: ignore[attr-defined]
        + [f"discrepancy {d['invoice_id']} {d['state']}: {d['reason']}" for d in blocking[:20]],
    )
    failed = sum(len(s.failed) for s in pushes.summaries.values())
    if failed:
        get_run_logger().warning("%d update(s) could not be pushed; owed next run", failed)
    for error in pushes.errors.values():
        raise error
    return summary


if __name__ == "__main__":
    import asyncio

    asyncio.run(push_flow())
