"""Where `rcflow sync`'s memory goes as the queue grows: a profile, not a timed benchmark.

For each queue size, a fresh simulator (0 ms, same seed) and one `rcflow sync` run in a process
that samples its own resident memory every 50 ms and, with ``--python-heap``, traces Python's
allocations (tracemalloc, which slows the run: its CPU figure is then not comparable). Printed
per run: peak RSS, Python's own heap (current and peak) and the process's CPU seconds. The
README's memory paragraph (issue 15) comes from this script: run it with and without
``--child-env MALLOC_ARENA_MAX=2`` to see the share of glibc's per-thread arenas.

Run: .venv/bin/python bench/profile_sync_memory.py [--sizes 2000 10000] [--runs 2]
     [--python-heap] [--child-env NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

CONCURRENCY = 16

# Runs inside the measured process: rcflow's own CLI, with a memory sampler beside it.
PROBE = r"""
import json, os, resource, sys, threading, time, tracemalloc
heap = os.environ.get("PROBE_PYTHON_HEAP") == "1"
if heap:
    tracemalloc.start(1)
peak = [0]
def sample():
    while True:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
from rcflow.cli.main import app
code = 0
try:
    app(["sync", "--json", "--no-refresh"], prog_name="rcflow")
except SystemExit as exit:
    code = exit.code
usage = resource.getrusage(resource.RUSAGE_SELF)
current, top = tracemalloc.get_traced_memory() if heap else (None, None)
print(json.dumps({"code": code, "rss_mb": max(peak[0], usage.ru_maxrss) / 1024,
                  "cpu_s": usage.ru_utime + usage.ru_stime,
                  "heap_mb": None if current is None else [current / 2**20, top / 2**20]}),
      file=sys.stderr)
"""


def run_once(invoices: int, python_heap: bool, child_env: dict[str, str]) -> dict[str, object]:
    with simulator(invoices) as url, tempfile.TemporaryDirectory(
        dir=Path.home() / ".cache"
    ) as folder:
        env = dict(os.environ, RCFLOW_HUB_URL=url, RCFLOW_ISSUER=ISSUER, RCFLOW_SECRET=SECRET,
                   RCFLOW_CONCURRENCY=str(CONCURRENCY),
                   RCFLOW_WAREHOUSE=str(Path(folder) / "warehouse.duckdb"),
                   PROBE_PYTHON_HEAP="1" if python_heap else "0", **child_env)  # fmt: skip
        done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                              text=True, cwd=Path(__file__).parent.parent)  # fmt: skip
        figures = json.loads(done.stderr.strip().splitlines()[-1])
        summary = json.loads(done.stdout)
        if figures["code"] not in (0, None) or summary["invoices_new"] != invoices:
            raise SystemExit(f"the sync did not store the {invoices} invoices: {done.stdout[-300:]}")
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--python-heap", action="store_true", help="trace Python's heap (slower)")
    parser.add_argument("--child-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="set in the sync's process only (not the simulator's)")  # fmt: skip
    args = parser.parse_args()
    child_env = dict(item.split("=", 1) for item in args.child_env)
    print("| invoices | run | peak RSS MB | Python heap MB (now, peak) | CPU s | env |")
    print("|---:|---:|---:|---:|---:|---|")
    for run in range(1, args.runs + 1):
        for size in args.sizes:
            f = run_once(size, args.python_heap, child_env)
            heap = "n/a" if f["heap_mb"] is None else "{:.0f}, {:.0f}".format(*f["heap_mb"])
            print(f"| {size} | {run} | {f['rss_mb']:.0f} | {heap} | {f['cpu_s']:.2f} |"
                  f" {' '.join(args.child_env) or 'default'} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
