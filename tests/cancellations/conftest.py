"""Fixtures of the cancellation tests: the FACe simulator on loopback (one server per module, a
fresh seeded hub per test), a connector over it, a warehouse holding the hub's invoices."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from cancel_support import seed_invoices

from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.simulator import (
    FaceHub,
    FaceSimConfig,
    RunningFaceSimulator,
    make_identity,
    start_face_simulator,
)
from rcflow.warehouse import Warehouse


@pytest.fixture(scope="session")
def client_id() -> FaceCredentials:
    return make_identity("rcflow platform (cancellation tests)")


@pytest.fixture(scope="session")
def face_id() -> FaceCredentials:
    return make_identity("FACe simulator (cancellation tests)", organization="SGAD simulada")


@pytest.fixture(scope="module")
def server(face_id: FaceCredentials) -> Iterator[RunningFaceSimulator]:
    with start_face_simulator(FaceHub(FaceSimConfig(invoices=1, processed=0), identity=face_id)) as sim:
        yield sim


@pytest.fixture
def hub(server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials) -> FaceHub:
    """A fresh FACe: 4 waiting, 16 processed, 2 cancellation requests, 2 credit assignments."""
    config = FaceSimConfig(seed=11, invoices=4, processed=16, cancellations=2, credit_assignments=2)
    return server.reset(FaceHub(config, identity=face_id, clients=(client_id.certificate,)))


@pytest.fixture
def make_face(
    server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials, hub: FaceHub
) -> Callable[[], FaceConnector]:
    """The FACe connector over the simulator (it finds the offices with consultarUnidades)."""

    def build() -> FaceConnector:
        client = FaceClient(server.url, client_id, [face_id.certificate], max_retries=2)
        return FaceConnector(client, None)

    return build


@pytest.fixture
async def face(make_face: Callable[[], FaceConnector]) -> AsyncIterator[FaceConnector]:
    connector = make_face()
    yield connector
    await connector.aclose()


@pytest.fixture
def warehouse_path(tmp_path: Path, hub: FaceHub) -> Path:
    """A warehouse holding every invoice of the simulated hub."""
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path) as wh:
        seed_invoices(wh, hub)
    return path
