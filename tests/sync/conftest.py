"""A live simulator on loopback and settings pointing rcflow at it, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sync_support import ISSUER, SECRET, TODAY

from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import RunningSimulator, start_simulator


def sim_config(**changes: object) -> SimConfig:
    base = SimConfig(
        seed=7,
        invoices=60,
        backfill=12,
        entities=3,
        today=TODAY,
        issuers={ISSUER: SECRET},
        late_attachment_rate=0.2,
        large_attachment_rate=0.0,
    )
    return base.with_(**changes)


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[RunningSimulator]:
    marker = request.node.get_closest_marker("sim")
    changes = marker.kwargs if marker else {}
    with start_simulator(sim_config(**changes)) as running:
        yield running


def make_settings(sim: RunningSimulator, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "hub_url": sim.base_url,
        "issuer": ISSUER,
        "secret": SecretStr(SECRET),
        "warehouse": tmp_path / "data" / "warehouse.duckdb",
        "concurrency": 8,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(sim: RunningSimulator, tmp_path: Path) -> Settings:
    return make_settings(sim, tmp_path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim(**changes): SimConfig changes for the `sim` fixture")
