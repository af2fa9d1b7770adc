"""Constants and a client factory for the hub client's integration tests."""

from __future__ import annotations

from pydantic import SecretStr

from rcflow.connectors.efact import HubClient
from rcflow.connectors.efact.simulator.server import RunningSimulator

ISSUER = "hub_client_tests"
SECRET = "client-tests-secret-9f8e7d6c5b4a-0123456789"


def client(sim: RunningSimulator, **kwargs: object) -> HubClient:
    kwargs.setdefault("max_retries", 3)
    return HubClient(sim.base_url, ISSUER, SecretStr(SECRET), **kwargs)  # type: ignore[arg-type]
