"""The sync end to end: invoices/s, requests per invoice, peak memory, ratio to the bound.

A simulator process with N pending invoices and 20 ms added latency; `rcflow sync` runs in its
own process with concurrency 16. Peak memory is the peak of the summed RSS of the sync and any
child processes, sampled every 50 ms; CPU is theirs too. The bound is the concurrency divided by
the latency: the most requests/s any client could get.

Run: .venv/bin/python bench/bench_sync.py [N ...]   (default: 2000 10000)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
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
    peak = [0]
    sampler = threading.Thread(target=_sample_tree_rss, args=(proc, peak), daemon=True)
    sampler.start()
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"sync failed: {out[-500:]}")
    data = json.loads(out)
    data["cpu"] = usage.ru_utime + usage.ru_stime
    return data, wall, max(peak[0], usage.ru_maxrss * 1024) // (1024 * 1024)


def _rss_and_parent(pid: str) -> tuple[int, int]:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[21]) * os.sysconf("SC_PAGE_SIZE"), int(fields[1])


def _sample_tree_rss(proc: subprocess.Popen, peak: list[int]) -> None:
    """Peak of the summed RSS of ``proc`` and its children (Linux /proc), until it exits."""
    while proc.poll() is None:
        total = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                rss, parent = _rss_and_parent(pid)
            except (OSError, IndexError, ValueError):
                continue
            if int(pid) == proc.pid or parent == proc.pid:
                total += rss
        peak[0] = max(peak[0], total)
        time.sleep(0.05)


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
