"""Real Prefect flows against the simulator, under a Prefect test harness."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rcflow.simulator.config import SimConfig
from rcflow.simulator.server import start_simulator

ISSUER = "flow_tests"
SECRET = "flow-tests-secret-0123456789-abcdefghijkl"


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None):
    config = SimConfig(seed=9, invoices=30, backfill=12, entities=2, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        monkeypatch.setenv("RCFLOW_HUB_URL", sim.base_url)
        monkeypatch.setenv("RCFLOW_ISSUER", ISSUER)
        monkeypatch.setenv("RCFLOW_SECRET", SECRET)
        monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
        yield sim


def test_sync_and_push_flows_with_artifacts(hub_env, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from flows.push_flow import push_flow
    from flows.sync_flow import sync_flow

    result = asyncio.run(sync_flow())
    assert result["ok"] and result["invoices_new"] == result["invoices_acknowledged"] > 0
    pushed = asyncio.run(push_flow())
    assert pushed["owed"] == 0 and pushed["ok"]

    async def artifacts() -> dict[str, str]:
        async with get_client() as client:
            found = await client.read_artifacts()
        return {a.key: a.data for a in found if a.key}

    found = asyncio.run(artifacts())
    assert "rcflow-sync" in found and "new invoices" in found["rcflow-sync"]
    assert "rcflow-push" in found
    assert SECRET not in "".join(found.values())
