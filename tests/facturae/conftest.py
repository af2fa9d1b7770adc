"""Fixtures for the Facturae and tax-id tests: the hand-written files under ``data/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def fixture_bytes() -> Callable[[str], bytes]:
    """Read a fixture file by its path under ``tests/facturae/data``."""

    def load(name: str) -> bytes:
        return (DATA / name).read_bytes()

    return load
