"""A Prefect test harness (a temporary local API) for the flow tests only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    # None: Prefect's PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, which rcflow.prefect_env sets
    # to 120 s (the API can take over 60 s to start while the other xdist worker is busy).
    with prefect_test_harness(server_startup_timeout=None):
        yield
