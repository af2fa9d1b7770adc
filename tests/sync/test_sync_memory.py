"""`rcflow sync` and `backfill` keep their memory from growing with the queue: glibc's mmap
threshold is fixed (a large block freed goes back to the system instead of staying, fragmented, in
a thread's arena), and DuckDB's cache of the blocks a batch stored is handed back after each batch."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from invariants import assert_nothing_lost, warehouse_rows
from sync_support import release_all_cached_blocks_after_each_batch

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_backfill, run_sync

# In a fresh process: free a 30 MiB block (glibc then raises its mmap threshold to 30 MiB, unless it
# is fixed), then allocate 20 MiB (more than the heap has free after the imports) and say whether
# it was mapped apart (mallinfo2's count of mapped blocks) or taken from the heap.
PROBE = textwrap.dedent("""
    import ctypes, os, sys
    from rcflow.cli.main import load_command
    if sys.argv[1] == "command":
        load_command(sys.argv[2])
    libc = ctypes.CDLL(None)
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
    libc.mallinfo2.restype = Info
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(30 << 20))
    before = libc.mallinfo2().hblks
    block = libc.malloc(20 << 20)
    print("mapped" if libc.mallinfo2().hblks > before else "arena")
    libc.free(block)
""")


def _where_a_large_block_goes(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True,
                          env=env)  # fmt: skip
    return done.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_sync_and_backfill_hand_large_blocks_back_and_other_commands_are_unchanged() -> None:
    assert _where_a_large_block_goes("none") == "arena"  # glibc's own behaviour, for contrast
    assert _where_a_large_block_goes("command", "sync") == "mapped"
    assert _where_a_large_block_goes("command", "backfill") == "mapped"
    assert _where_a_large_block_goes("command", "sql") == "arena"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_an_operators_malloc_setting_is_left_as_it_is() -> None:
    import os

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(24 << 20))
    assert _where_a_large_block_goes("command", "sync", env=env) == "arena"


@pytest.mark.sim(invoices=130, page_size=50)
def test_the_sync_hands_duckdbs_cached_blocks_back_after_every_stored_batch(
    sim: RunningSimulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every store or refresh batch is followed by a release of DuckDB's block cache. Here each
    batch is also checkpointed first and its blocks all released: the sync, a backfill of the same
    invoices and a refresh of every history after it still store, look up and acknowledge
    everything (the cache only spared a re-read)."""
    releases = release_all_cached_blocks_after_each_batch(monkeypatch)
    summary = asyncio.run(run_sync(settings))
    assert summary.ok, summary.deferred
    assert summary.invoices_new == summary.invoices_acknowledged >= 130
    assert len(releases) >= 3 and sum(releases) > 0  # a batch or more per page; blocks released
    assert_nothing_lost(sim, settings)
    ids = warehouse_rows(settings, "select invoice_id from raw.invoices order by 1 limit 20")
    before = len(releases)
    again = asyncio.run(run_backfill(settings, [i for (i,) in ids]))
    assert again.invoices_seen == 20 and again.invoices_new == 0 and len(releases) > before
    assert warehouse_rows(settings, "select count(*) from raw.invoices")[0][0] == summary.invoices_new
    before = len(releases)
    refreshed = asyncio.run(run_sync(settings, refresh_age=timedelta(0)))  # re-reads every history
    assert refreshed.ok and refreshed.states_refreshed > 0 and len(releases) > before
