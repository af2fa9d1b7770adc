"""`rcflow sync` against a plain threaded peer (bench/plain_peer.py), side by side, alternating.

For each latency and queue size, a fresh simulator process is started per run with the same seed
(so both drain the same invoices), and the runs alternate rcflow, peer, rcflow, peer… so both see
the same load on this shared machine. Printed per configuration: the median invoices/s of each,
their ratio (goal ≥ 1.0), rcflow's ratio to the concurrency bound (C / latency) and the client CPU
seconds per invoice of each (whole processes, start-up included), the requests each made per
invoice (both release the attachments the hub queues on delivery) and each one's peak RSS.

Both run with their bytecode cached (one ``PYTHONPYCACHEPREFIX`` for the whole bench, warmed up
first by one untimed run of each against a small queue, so the first measured run compiles no
library module either), as an installed package runs: this machine's environment sets
PYTHONDONTWRITEBYTECODE, which would otherwise have every run recompile its modules (about 1.4 s
of CPU for rcflow's libraries, 0.3 s for the peer's).

Run: .venv/bin/python bench/bench_sync_vs_peer.py [--runs 2] [--sizes 2000 10000] [--latencies 0 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

CONCURRENCY = 16
WARM_UP = 50  # invoices of the untimed run that compiles each program's modules
PEER = Path(__file__).parent / "plain_peer.py"
RCFLOW = Path(__file__).parent.parent / "rcflow"
Result = tuple[float, float, int, float, float, float]  # inv/s, CPU s, stored, req/s, req/inv, MB


def _bytecode_env(prefix: str) -> None:
    """Every child process caches its bytecode under ``prefix``: rcflow compiled here, and every
    module either program imports by one untimed run of each (the libraries' modules too)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(RCFLOW)], check=False)
    for runner in (run_rcflow, run_peer):
        with simulator(WARM_UP) as url, tempfile.TemporaryDirectory() as tmp:
            runner(url, Path(tmp))


def _run(command: list[str], env: dict[str, str]) -> tuple[dict, float, float]:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[1]} failed: {out[-400:]}")
    return json.loads(out), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_rcflow(base_url: str, folder: Path) -> Result:
    env = dict(
        os.environ,
        RCFLOW_HUB_URL=base_url,
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET=SECRET,
        RCFLOW_CONCURRENCY=str(CONCURRENCY),
        RCFLOW_WAREHOUSE=str(folder / "warehouse.duckdb"),
    )
    summary, cpu, rss = _run([sys.executable, "-m", "rcflow.cli.main", "sync", "--json", "--no-refresh"], env)
    seconds = summary["seconds"]
    new = summary["invoices_new"]
    return new / seconds, cpu, new, summary["requests"] / seconds, summary["requests"] / max(new, 1), rss


def run_peer(base_url: str, folder: Path) -> Result:
    env = dict(os.environ, PEER_SECRET=SECRET)
    summary, cpu, rss = _run(
        [sys.executable, str(PEER), base_url, ISSUER, SECRET, str(folder), str(CONCURRENCY)], env
    )
    new, seconds = summary["invoices_new"], summary["seconds"]
    return new / seconds, cpu, new, summary["requests"] / seconds, summary["requests"] / max(new, 1), rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 20.0])
    args = parser.parse_args()
    _bytecode_env(tempfile.mkdtemp(prefix="rcflow-bench-pyc-"))
    print(
        f"rcflow sync vs a plain threaded peer, concurrency {CONCURRENCY}, {args.runs} alternating runs each"
    )
    print(
        "| latency | invoices | rcflow inv/s | peer inv/s | rcflow / peer (goal ≥ 1.0) | rcflow / bound "
        "| rcflow CPU ms/inv | peer CPU ms/inv | requests/inv rcflow, peer | peak RSS MB rcflow, peer "
        "| load avg (1 min) before, after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for latency in args.latencies:
        for size in args.sizes:
            results: dict[str, list[Result]] = {"rcflow": [], "peer": []}
            load_before = os.getloadavg()[0]
            for _ in range(args.runs):
                for name, runner in (("rcflow", run_rcflow), ("peer", run_peer)):
                    with simulator(size, latency_ms=latency) as url, tempfile.TemporaryDirectory() as tmp:
                        results[name].append(runner(url, Path(tmp)))
                    time.sleep(0.5)
            ips = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
            cpu = {k: statistics.median(r[1] / max(r[2], 1) * 1000 for r in v) for k, v in results.items()}
            stored = {k: {r[2] for r in v} for k, v in results.items()}
            per_invoice = {k: statistics.median(r[4] for r in v) for k, v in results.items()}
            rss = {k: max(r[5] for r in v) for k, v in results.items()}
            bound = "n/a (CPU-bound)"
            if latency > 0:  # the bound is in requests/s: C requests in flight, each taking the latency
                rps = statistics.median(r[3] for r in results["rcflow"])
                bound = f"{rps / (CONCURRENCY / (latency / 1000)):.2f}"
            ratio = ips["rcflow"] / ips["peer"]
            print(
                f"| {latency:.0f} ms | {size} | {ips['rcflow']:.0f} | {ips['peer']:.0f} | {ratio:.2f} "
                f"| {bound} | {cpu['rcflow']:.2f} | {cpu['peer']:.2f} "
                f"| {per_invoice['rcflow']:.2f}, {per_invoice['peer']:.2f} "
                f"| {rss['rcflow']:.0f}, {rss['peer']:.0f} | {load_before:.1f}, {os.getloadavg()[0]:.1f} |",
                flush=True,
            )
            if stored["rcflow"] != {size} or stored["peer"] != {size}:
                print(f"  (stored: rcflow {sorted(stored['rcflow'])}, peer {sorted(stored['peer'])})")


if __name__ == "__main__":
    main()
