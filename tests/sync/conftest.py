"""A live simulator on loopback and settings pointing rcflow at it, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_support import ISSUER, SECRET, TODAY, make_settings

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.front import RunningFront, start_front
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


@pytest.fixture
def settings(sim: RunningSimulator, tmp_path: Path) -> Settings:
    return make_settings(sim, tmp_path)


@pytest.fixture
def front(sim: RunningSimulator) -> Iterator[RunningFront]:
    """A front before the simulator (a proxy that rewrites, compresses or breaks the answers a
    test picks); a test points its settings at ``front.base_url``."""
    with start_front(sim) as running:
        yield running


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim(**changes): SimConfig changes for the `sim` fixture")
