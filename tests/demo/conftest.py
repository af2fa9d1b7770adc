"""The commands that run the whole pipeline through Prefect (`rcflow demo`, `rcflow run`) and the
Prefect API they start when no server is configured (``rcflow.prefect_api``)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for this folder's runs (one xdist work unit: tests/conftest.py). The demo,
    first, finds it empty, as on a fresh machine, and creates its database (~20 s here); the
    `rcflow run` and Prefect API tests find it made."""
    return tmp_path_factory.mktemp("prefect-home")
