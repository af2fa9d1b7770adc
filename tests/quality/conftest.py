"""Warehouses checked once per session: GX runs are real, so each costs a second or two."""

from __future__ import annotations

from pathlib import Path

import pytest
from qual_data import NOW, write
from qual_scenarios import broken_keys, scenario

from rcflow.quality import CheckReport, run_checks


@pytest.fixture(scope="session")
def checked_scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CheckReport]:
    """The many-cases warehouse (see ``qual_scenarios``), checked at ``NOW``."""
    path = write(tmp_path_factory.mktemp("scenario") / "data" / "warehouse.duckdb", scenario())
    return path, run_checks(path, run_id="check-scenario", now=NOW)


@pytest.fixture(scope="session")
def checked_broken_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CheckReport]:
    path = broken_keys(tmp_path_factory.mktemp("broken") / "data" / "warehouse.duckdb")
    return path, run_checks(path, run_id="check-broken", now=NOW)
