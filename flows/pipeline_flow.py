"""Flow: the whole pipeline as one run — sync → (import accounting) → check → push → report."""

from __future__ import annotations

import logging

from prefect import flow, get_run_logger

from flows.check_flow import check_flow
from flows.push_flow import push_flow
from flows.report_flow import report_flow
from flows.sync_flow import sync_flow
from rcflow.prefect_env import STEPS_LOGGER
from tasks.accounting_tasks import import_accounting
from tasks.settings import aflow_settings

steps = logging.getLogger(STEPS_LOGGER)


@flow(name="rcflow-pipeline")
async def pipeline_flow(
    period: str = "last-month",
    accounting_files: list[str] | None = None,
    out_dir: str | None = None,
    secret_block: str | None = None,
    face_password_block: str | None = None,
) -> dict:
    """Each step is a subflow over every configured hub; a failed step (a hub that failed
    included, after the other hubs ran) fails the run and the later steps do not start.

    The data stays consistent whatever fails: every step commits its own work atomically and
    the push never runs on data whose blocking quality checks failed.
    """
    logger = get_run_logger()
    results: dict[str, object] = {}
    blocks = {"secret_block": secret_block, "face_password_block": face_password_block}
    steps.info("syncing the hubs")
    results["sync"] = await sync_flow(**blocks)
    if accounting_files:
        steps.info("importing the accounting events")
        results["accounting"] = import_accounting(await aflow_settings(**blocks), accounting_files)
    steps.info("checking the data")
    results["check"] = check_flow()
    steps.info("pushing the updates owed to the hubs")
    results["push"] = await push_flow(**blocks)
    steps.info(f"building the {period} reports")
    results["report"] = report_flow(period=period, out_dir=out_dir)
    logger.info("pipeline finished: reports in %s", results["report"]["paths"].get("report.html"))  # type: ignore[index]
    return results


if __name__ == "__main__":
    import asyncio

    asyncio.run(pipeline_flow())
