"""Fixtures for the simulator tests: real loopback servers, tokens signed with pyjwt."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import jwt
import pytest

from rcflow.connectors.efact.simulator import RunningSimulator, SimConfig, start_simulator

ISSUER = "hub_0012"
SECRET = "test-secret-0123456789-abcdefghijklmnop"
TODAY = date(2025, 6, 30)


def _make_token(secret: str = SECRET, *, lifetime: int = 60, drop: tuple[str, ...] = (),
               algorithm: str = "HS256", **claims: Any) -> str:
    """A token like a client would send; ``claims`` override, ``drop`` removes claims."""
    now = int(time.time())
    payload: dict[str, Any] = {"iss": ISSUER, "aud": "efact", "iat": now, "nbf": now,
                               "exp": now + lifetime}
    payload.update(claims)
    for name in drop:
        payload.pop(name, None)
    return jwt.encode(payload, secret, algorithm=algorithm)


class BearerAuth(httpx.Auth):
    """A fresh short-lived token per request."""

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {_make_token()}"
        yield request


def _config(**changes: Any) -> SimConfig:
    base = SimConfig(seed=7, invoices=40, backfill=30, today=TODAY, issuers={ISSUER: SECRET})
    return base.with_(**changes)


@pytest.fixture(scope="session")
def _server() -> Iterator[RunningSimulator]:
    with start_simulator(_config()) as running:
        yield running


@pytest.fixture
def sim(_server: RunningSimulator) -> RunningSimulator:
    """A fresh small hub for this test (tests may change its state)."""
    _server.reset(_config())
    return _server


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[RunningSimulator]:
    """A read-mostly hub shared by a module's tests."""
    with start_simulator(_config(invoices=120, backfill=80, hostile_rate=0.1)) as running:
        yield running


def _client_for(running: RunningSimulator, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=running.base_url, auth=BearerAuth(), timeout=10, **kwargs)


@pytest.fixture
def client(sim: RunningSimulator) -> Iterator[httpx.Client]:
    with _client_for(sim) as c:
        yield c


@pytest.fixture
def shared_client(shared_sim: RunningSimulator) -> Iterator[httpx.Client]:
    with _client_for(shared_sim) as c:
        yield c


def _error_code(response: httpx.Response) -> int:
    """The codiError of an error answer, as a number whatever its JSON type."""
    return int(response.json()["codiError"])


# Helpers reach the test modules as fixtures (test folders are not packages).
@pytest.fixture
def make_token() -> Any:
    return _make_token


@pytest.fixture
def sim_config() -> Any:
    return _config


@pytest.fixture
def client_for() -> Any:
    return _client_for


@pytest.fixture
def error_code() -> Any:
    return _error_code
