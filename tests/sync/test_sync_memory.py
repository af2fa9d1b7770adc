"""`rcflow sync` and `backfill` fix glibc's mmap threshold: a large block freed goes back to the
system instead of staying, fragmented, in a thread's arena (the sync's memory grew with the queue)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

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
