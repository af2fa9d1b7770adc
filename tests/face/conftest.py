"""Fixtures for the FACe connector tests: throw-away identities and a simulator on loopback.

Keys are generated once per session (RSA generation is the slow part); each test gets a fresh,
small hub served by one module-wide server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
from rcflow.store import BlobStore


@pytest.fixture(scope="session")
def client_id() -> FaceCredentials:
    return make_identity("rcflow platform (tests)")


@pytest.fixture(scope="session")
def stranger_id() -> FaceCredentials:
    """A valid certificate FACe never registered."""
    return make_identity("someone else's platform")


@pytest.fixture(scope="session")
def face_id() -> FaceCredentials:
    return make_identity("FACe simulator (tests)", organization="SGAD simulada")


@pytest.fixture(scope="session")
def expired_id() -> FaceCredentials:
    return make_identity("expired platform", days=1, not_before=datetime.now(UTC) - timedelta(days=10))


@pytest.fixture(scope="module")
def server(face_id: FaceCredentials) -> Iterator[RunningFaceSimulator]:
    with start_face_simulator(FaceHub(FaceSimConfig(invoices=1, processed=0), identity=face_id)) as sim:
        yield sim


@pytest.fixture
def hub(server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials) -> FaceHub:
    """A fresh seeded FACe (12 waiting, 12 processed, 2 cancellation requests) with our certificate."""
    config = FaceSimConfig(seed=7, invoices=12, processed=12, cancellations=2, credit_assignments=2)
    return server.reset(FaceHub(config, identity=face_id, clients=(client_id.certificate,)))


@pytest.fixture
def make_client(
    server: RunningFaceSimulator, face_id: FaceCredentials, client_id: FaceCredentials
) -> Callable[..., FaceClient]:
    def build(credentials: FaceCredentials | None = None, **kwargs: object) -> FaceClient:
        kwargs.setdefault("max_retries", 3)
        return FaceClient(server.url, credentials or client_id, [face_id.certificate], **kwargs)  # type: ignore[arg-type]

    return build


@pytest.fixture
async def face(make_client: Callable[..., FaceClient], hub: FaceHub) -> AsyncIterator[FaceClient]:
    async with make_client() as client:
        yield client


@pytest.fixture
def make_connector(
    make_client: Callable[..., FaceClient], tmp_path: Path
) -> Callable[..., FaceConnector]:
    """A FACe connector over a fresh client and a blob store under the test's tmp_path."""

    def build(*, offices: tuple[str, ...] = (), office_of: object = None, **client: object) -> FaceConnector:
        store = BlobStore(tmp_path / "blobs")
        return FaceConnector(make_client(**client), store, offices=offices, office_of=office_of)  # type: ignore[arg-type]

    return build


@pytest.fixture
async def connector(
    make_connector: Callable[..., FaceConnector], hub: FaceHub
) -> AsyncIterator[FaceConnector]:
    built = make_connector()
    try:
        yield built
    finally:
        await built.aclose()
