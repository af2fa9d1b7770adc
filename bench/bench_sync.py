"""The sync end to end: invoices/s, requests per invoice, peak memory, ratio to the bound.

A simulator process with N pending invoices and 20 ms added latency; `rcflow sync` runs in its
own process with concurrency 16 so its peak memory (ru_maxrss) is its own. The bound is the
concurrency divided by the latency: the most requests/s any client could get.

Run: .venv/bin/python bench/bench_sync.py [N ...]   (default: 2000 10000)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

LATENCY_MS = 20.0
CONCURRENCY = 16


def run_sync(base_url: str, warehouse: Path) -> tuple[dict, float, int]:
    env = dict(
        os.environ,
        RCFLOW_HUB_URL=base_url,
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET=SECRET,
        RCFLOW_WAREHOUSE=str(warehouse),
        RCFLOW_CONCURRENCY=str(CONCURRENCY),
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcflow.cli.main", "sync", "--json", "--no-refresh"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sync failed: {out[-500:]}")
    data = json.loads(out)
    data["cpu"] = usage.ru_utime + usage.ru_stime
    return data, wall, usage.ru_maxrss // 1024


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        with simulator(n, latency_ms=LATENCY_MS) as base_url, tempfile.TemporaryDirectory() as tmp:
            summary, wall, peak_mb = run_sync(base_url, Path(tmp) / "warehouse.duckdb")
        seconds = summary["seconds"]
        invoices = summary["invoices_new"]
        requests = summary["requests"]
        bound = CONCURRENCY / (LATENCY_MS / 1000)
        rows.append(
            (
                n,
                invoices,
                seconds,
                invoices / seconds,
                requests / invoices,
                requests / seconds,
                bound,
                peak_mb,
                wall,
                summary["cpu"],
            )
        )
    print(f"sync, {LATENCY_MS:.0f} ms added latency, concurrency {CONCURRENCY}")
    print(
        "| invoices | stored | sync s | invoices/s | requests/invoice | requests/s | bound | ratio"
        " | peak RSS | client CPU s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, got, secs, ips, rpi, rps, bound, peak, _wall, cpu in rows:
        print(
            f"| {n} | {got} | {secs:.1f} | {ips:.0f} | {rpi:.2f} | {rps:.0f} | {bound:.0f} "
            f"| {rps / bound:.2f} | {peak} MB | {cpu:.1f} |"
        )
    if len(rows) > 1:
        print(f"memory growth {rows[0][0]} → {rows[-1][0]} invoices: {rows[-1][7] - rows[0][7]:+d} MB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2000, 10000])
