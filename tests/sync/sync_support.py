"""Constants and helpers shared by the sync tests (kept out of conftest so test modules can import them)."""

from __future__ import annotations

from datetime import date

import pytest

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
