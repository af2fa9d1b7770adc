"""Constants and helpers shared by the sync tests (kept out of conftest so test modules can import them)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.warehouse import Warehouse

ISSUER = "hub_test"
SECRET = "sync-tests-secret-0123456789-abcdefghij"
TODAY = date(2025, 11, 20)


def release_all_cached_blocks_after_each_batch(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every release of DuckDB's block cache the most it can be: the batch checkpointed first
    (DuckDB does so on its own when its log reaches 16 MB), then every cached block evicted.
    Returns the list of bytes each release freed, filled as the sync runs."""
    releases: list[int] = []
    release = Warehouse.release_cached_blocks

    def checkpoint_then_release_all(wh: Warehouse, *, above: int = 0) -> int:
        wh.con.execute("checkpoint")
        releases.append(release(wh, above=0))
        return releases[-1]

    monkeypatch.setattr(Warehouse, "release_cached_blocks", checkpoint_then_release_all)
    return releases


def make_settings(sim: RunningSimulator, tmp_path: Path, **overrides: object) -> Settings:
    """rcflow pointed at ``sim`` with a warehouse in ``tmp_path``; ``overrides``: other settings."""
    values: dict[str, object] = {
        "hub_url": sim.base_url,
        "issuer": ISSUER,
        "secret": SecretStr(SECRET),
        "warehouse": tmp_path / "data" / "warehouse.duckdb",
        "concurrency": 8,
    }
    values.update(overrides)
    return load_settings(**values)
