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

Each run's warehouse and blobs go to a new folder under ``--scratch`` (default
``~/.cache/rcflow-bench``), kept until the bench ends, not to a shared ``/tmp``: on ext4 a new
file's inode is not taken from those freed in the last minutes, and in this machine's ``/tmp``,
where test suites and the runs before delete thousands of files, creating a file cost ~0.25–0.6 ms
of kernel CPU against ~0.03–0.07 ms in a folder without recent deletions (measured). That
measured the machine's clean-ups: both programs spent ~1 ms less CPU per invoice out of ``/tmp``
(their ratio did not move).

Every table ends with the CPU one new file cost in the scratch folder just before the runs (200
files of 4 KiB, created and kept). On this machine's ext4 that cost moves from ~50 µs to over
1 ms after thousands of deletions nearby in the minutes before (the allocator steps over
recently freed inodes), and both programs create two files per invoice: a dear file moves both
programs' CPU per invoice by up to 2 ms, which this column makes visible.

The before → after table's last column is each process's wall time outside the window its own
summary times (exec to exit, less its ``seconds``): start-up and exit, the fixed cost of a run.
rcflow's window opens before it opens the warehouse (a new one's migrations included), the
peer's once its SQLite tables are made.

``--empty N`` first runs every program N times, alternating, against an empty queue and prints
the medians of their wall and CPU seconds: the fixed cost of a run (start-up, the first calls,
exit), which weighs on the CPU per invoice of a small queue.

``--base DIR`` adds a third program, another checkout's ``rcflow sync`` (run with that checkout's
own ``.venv``, from that checkout), alternating with the two others: the table then shows
before (the base), after (this checkout) and the peer side by side, as the README's before →
after tables are printed.

Run: .venv/bin/python bench/bench_sync_vs_peer.py [--runs 2] [--sizes 2000 10000] [--latencies 0 20]
     [--base ../other-checkout] [--empty 10]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

CONCURRENCY = 16
WARM_UP = 50  # invoices of the untimed run that compiles each program's modules
PEER = Path(__file__).parent / "plain_peer.py"
RCFLOW = Path(__file__).parent.parent / "rcflow"
# inv/s, CPU s, stored, req/s, req/inv, MB, s outside the timed drain (start-up and exit), wall s
Result = tuple[float, float, int, float, float, float, float, float]
Runner = Callable[[str, Path], Result]
SCRATCH = tempfile.gettempdir()  # where runs keep their folders (set per bench in main)


def _bytecode_env(prefix: str, runners: dict[str, Runner]) -> None:
    """Every child process caches its bytecode under ``prefix``: rcflow compiled here, and every
    module each program imports by one untimed run of each (the libraries' modules too)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(RCFLOW)], check=False)
    for runner in runners.values():
        with simulator(WARM_UP) as url, tempfile.TemporaryDirectory() as tmp:
            runner(url, Path(tmp))


def _run(
    command: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[dict, float, float, float]:
    """The program's JSON summary, its CPU seconds, peak RSS (MB) and wall seconds, exec to exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=cwd)  # fmt: skip
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[1]} failed: {out[-400:]}")
    return json.loads(out), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, wall


def file_cost_us(count: int = 200) -> float:
    """Process CPU (µs) to create one 4 KiB file in a new folder under ``SCRATCH``; the files are
    kept until the bench ends (deleting them would raise the next measurement)."""
    folder = Path(tempfile.mkdtemp(prefix="files-", dir=SCRATCH))
    block = b"\0" * 4096
    started = time.process_time()
    for k in range(count):
        with open(folder / f"f{k}", "wb") as handle:
            handle.write(block)
    return (time.process_time() - started) / count * 1e6


def _result(summary: dict, cpu: float, rss: float, wall: float) -> Result:
    """A run's figures from its JSON summary (both programs print the same keys) and ``_run``'s."""
    new, seconds, requests = summary["invoices_new"], summary["seconds"], summary["requests"]
    return new / seconds, cpu, new, requests / seconds, requests / max(new, 1), rss, wall - seconds, wall


def run_rcflow(base_url: str, folder: Path, checkout: Path | None = None) -> Result:
    """This checkout's ``rcflow sync`` (``checkout``: another one's, with its own ``.venv``)."""
    env = dict(
        os.environ,
        RCFLOW_HUB_URL=base_url,
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET=SECRET,
        RCFLOW_CONCURRENCY=str(CONCURRENCY),
        RCFLOW_WAREHOUSE=str(folder / "warehouse.duckdb"),
    )
    python = sys.executable if checkout is None else str(checkout / ".venv" / "bin" / "python")
    if checkout is not None:
        env.pop("PYTHONPATH", None)
    command = [python, "-m", "rcflow.cli.main", "sync", "--json", "--no-refresh"]
    return _result(*_run(command, env, cwd=checkout))


def run_peer(base_url: str, folder: Path) -> Result:
    env = dict(os.environ, PEER_SECRET=SECRET)
    return _result(*_run(
        [sys.executable, str(PEER), base_url, ISSUER, SECRET, str(folder), str(CONCURRENCY)], env
    ))


def _runners(base: Path | None) -> dict[str, Runner]:
    runners: dict[str, Runner] = {"rcflow": run_rcflow, "peer": run_peer}
    if base is not None:
        if not (base / ".venv" / "bin" / "python").exists():
            raise SystemExit(f"--base {base}: no .venv there (run `make install` in it first)")
        runners = {"before": functools.partial(run_rcflow, checkout=base), **runners}
    return runners


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument("--scratch", type=Path, default=Path.home() / ".cache" / "rcflow-bench",
                        help="where the runs' files go (not a shared /tmp: see the docstring)")  # fmt: skip
    parser.add_argument("--empty", type=int, default=0,
                        help="first, N alternating runs on an empty queue (fixed cost)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=None,
                        help="another checkout (with its .venv): its sync runs as 'before'")  # fmt: skip
    args = parser.parse_args()
    base = args.base.resolve() if args.base else None
    runners = _runners(base)
    global SCRATCH
    args.scratch.mkdir(parents=True, exist_ok=True)
    SCRATCH = tempfile.mkdtemp(prefix="runs-", dir=args.scratch)
    print(f"(each run's folder under {SCRATCH}, kept until the bench ends)")
    try:
        _main(args, base, runners)
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)


def _main(args: argparse.Namespace, base: Path | None, runners: dict[str, Runner]) -> None:
    _bytecode_env(tempfile.mkdtemp(prefix="rcflow-bench-pyc-"), runners)
    title = (f"rcflow sync vs a plain threaded peer, concurrency {CONCURRENCY}, "
             f"{args.runs} alternating runs each")  # fmt: skip
    if base is not None:
        title += f"; before = {base} ({_commit(base)}), after = this checkout ({_commit(RCFLOW.parent)})"
    print(title)
    if args.empty:
        _fixed_cost(runners, args.empty)
    if base is not None:
        _before_after(args, runners)
        return
    print(
        "| latency | invoices | rcflow inv/s | peer inv/s | rcflow / peer (goal ≥ 1.0) | rcflow / bound "
        "| rcflow CPU ms/inv | peer CPU ms/inv | requests/inv rcflow, peer | peak RSS MB rcflow, peer "
        "| load avg (1 min) before, after | µs per new file |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for latency in args.latencies:
        for size in args.sizes:
            load_before, file_us = os.getloadavg()[0], file_cost_us()
            results = _alternate(runners, size, latency, args.runs)
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
                f"| {rss['rcflow']:.0f}, {rss['peer']:.0f} | {load_before:.1f}, {os.getloadavg()[0]:.1f} "
                f"| {file_us:.0f} |",
                flush=True,
            )
            if stored["rcflow"] != {size} or stored["peer"] != {size}:
                print(f"  (stored: rcflow {sorted(stored['rcflow'])}, peer {sorted(stored['peer'])})")


def _alternate(runners: dict[str, Runner], size: int, latency: float, runs: int) -> dict[str, list[Result]]:
    """``runs`` rounds, each running every program once in turn against a fresh simulator, each
    in a new folder under ``SCRATCH`` (see ``main``).

    The order turns by one program each round (A B C, B C A, C A B, …), so no program always
    follows the same one (with a fixed order the second program came out behind the first in
    each before → after comparison of issue 15's sixth and seventh rounds, for a cause not
    found), and every run starts once the previous one's writes are on disk (``os.sync``)."""
    results: dict[str, list[Result]] = {name: [] for name in runners}
    names = list(runners)
    for round_no in range(runs):
        turn = round_no % len(names)
        for name in names[turn:] + names[:turn]:
            os.sync()
            time.sleep(0.5)
            folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=SCRATCH))
            with simulator(size, latency_ms=latency) as url:
                results[name].append(runners[name](url, folder))
    return results


def _fixed_cost(runners: dict[str, Runner], runs: int) -> None:
    """Each program's whole run against an empty queue (start-up, the first calls, exit), alternating:
    the fixed cost every run pays, whatever the queue's size."""
    started, load_before = time.strftime("%H:%M", time.gmtime()), os.getloadavg()[0]
    results: dict[str, list[Result]] = {name: [] for name in runners}
    with simulator(0) as url:  # nothing to drain: one simulator serves every run
        for _ in range(runs):
            for name, runner in runners.items():
                results[name].append(runner(url, Path(tempfile.mkdtemp(prefix=f"{name}-", dir=SCRATCH))))
    names = list(runners)
    shown = [("after" if "before" in runners else k) if k == "rcflow" else k for k in names]
    wall = {k: statistics.median(r[7] for r in v) for k, v in results.items()}
    cpu = {k: statistics.median(r[1] for r in v) for k, v in results.items()}
    print(f"| empty queue: {', '.join(shown)} | runs | time (UTC), load avg | wall s | CPU s |")
    print("|---|---:|---|---:|---:|")
    print(f"| fixed cost of a run (a new warehouse or SQLite file each) | {runs} "
          f"| {started}–{time.strftime('%H:%M', time.gmtime())}, {load_before:.1f}–{os.getloadavg()[0]:.1f} "
          f"| {', '.join(f'{wall[k]:.2f}' for k in names)} | {', '.join(f'{cpu[k]:.2f}' for k in names)} |",
          flush=True)  # fmt: skip


def _before_after(args: argparse.Namespace, runners: dict[str, Runner]) -> None:
    """The before → after table: the base checkout, this one and the peer, alternating."""
    print(
        "| latency | invoices | runs | time (UTC), load avg | inv/s before, after, peer "
        "| ÷ peer before → after (goal ≥ 1.0) | ÷ bound before → after | CPU ms/inv before, after, peer "
        "| peak RSS MB before, after, peer | s outside the timed drain before, after, peer "
        "| µs per new file |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    names = ("before", "rcflow", "peer")
    for latency in args.latencies:
        for size in args.sizes:
            started, load_before = time.strftime("%H:%M", time.gmtime()), os.getloadavg()[0]
            file_us = file_cost_us()
            results = _alternate(runners, size, latency, args.runs)
            ips = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
            cpu = {k: statistics.median(r[1] / max(r[2], 1) * 1000 for r in v) for k, v in results.items()}
            rss = {k: max(r[5] for r in v) for k, v in results.items()}
            outside = {k: statistics.median(r[6] for r in v) for k, v in results.items()}
            bound = "n/a"
            if latency > 0:
                per_s = CONCURRENCY / (latency / 1000)
                bound = " → ".join(f"{statistics.median(r[3] for r in results[k]) / per_s:.2f}"
                                   for k in ("before", "rcflow"))  # fmt: skip
            print(
                f"| {latency:.0f} ms | {size} | {args.runs} "
                f"| {started}–{time.strftime('%H:%M', time.gmtime())}, "
                f"{load_before:.1f}–{os.getloadavg()[0]:.1f} "
                f"| {', '.join(f'{ips[k]:.0f}' for k in names)} "
                f"| {ips['before'] / ips['peer']:.2f} → {ips['rcflow'] / ips['peer']:.2f} | {bound} "
                f"| {', '.join(f'{cpu[k]:.2f}' for k in names)} "
                f"| {', '.join(f'{rss[k]:.0f}' for k in names)} "
                f"| {', '.join(f'{outside[k]:.2f}' for k in names)} | {file_us:.0f} |",
                flush=True,
            )
            stored = {k: sorted({r[2] for r in v}) for k, v in results.items()}
            if any(s != [size] for s in stored.values()):
                print(f"  (stored: {stored})")


def _commit(checkout: Path) -> str:
    out = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    return out.stdout.strip() or "?"


if __name__ == "__main__":
    main()
