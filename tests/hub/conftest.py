"""A live simulator and a client pointed at it, for the hub client's integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hub_support import ISSUER, SECRET

from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import RunningSimulator, start_simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    config = SimConfig(
        seed=11,
        invoices=30,
        backfill=12,
        entities=3,
        today=date(2025, 11, 20),
        issuers={ISSUER: SECRET},
        large_attachment_rate=0.0,
    )
    with start_simulator(config) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_faults(sim: RunningSimulator) -> Iterator[None]:
    yield
    sim.hub.clear_injections()
