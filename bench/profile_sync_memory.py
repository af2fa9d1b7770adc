"""Where `rcflow sync`'s memory goes as the queue grows: a profile, not a timed benchmark.

For each queue size, a fresh simulator (0 ms, same seed) per run, and the programs alternating
against it: this checkout's ``rcflow sync``, the plain threaded peer (``bench/plain_peer.py``)
and, with ``--base DIR``, another checkout's ``rcflow sync`` (its own ``.venv``) as "before".
Each runs in a process that samples its own resident memory every 50 ms. Printed per size
(medians of ``--runs``): peak RSS, Python's own heap (with ``--python-heap``: one more run of
each, traced by tracemalloc, which slows it, so its CPU is not counted) and the CPU per invoice
(whole process, start-up included, bytecode cached by one untimed warm-up run of each).

``--prefill N`` starts every rcflow run from a copy of a warehouse already holding about N
invoices, with their states, attachments and Facturae rows (built once from a real 2,000-invoice
sync, copied under new ids, and cached under ``--scratch``): the writer's cost on a large
warehouse. ``--prefill-ids`` chooses those ids: ``random`` (10 digits, stored in random order:
the run's 9-digit ids fall all over every primary-key index, the worst case) or ``arrival``
(9 digits below the simulator's first, stored in order: as a real warehouse holds the invoices
that came before, eFACT's ids growing with time). The peer has nothing to prefill and is not run
then. ``--child-env NAME=VALUE`` sets a variable in the syncs' processes only (for
example ``MALLOC_ARENA_MAX=2``, to see the share of glibc's per-thread arenas).

Run: .venv/bin/python bench/profile_sync_memory.py [--sizes 2000 10000 20000] [--runs 2]
     [--python-heap] [--base ../other-checkout] [--prefill 500000 [--prefill-ids arrival]]
     [--child-env NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

CONCURRENCY = 16
HERE = Path(__file__).parent.parent
PEER = Path(__file__).parent / "plain_peer.py"
WARM_UP = 50
PREFILL_SEED = 2  # the template's invoices are remapped to new ids: any seed would do
RAW_TABLES = ("raw.invoices", "raw.invoice_states", "raw.attachments", "raw.facturae_documents",
              "raw.facturae_lines", "raw.facturae_installments", "raw.facturae_centres",
              "raw.facturae_mismatches")  # fmt: skip

# Runs inside the measured process: a program (``-m module`` or a script, then its arguments)
# with a memory sampler beside it; its figures go to stderr's last line.
PROBE = r"""
import json, os, resource, runpy, sys, threading, time, tracemalloc
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
code = 0
try:
    if sys.argv[1] == "-m":
        sys.argv = [sys.argv[2], *sys.argv[3:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as status:  # the high-water mark of this program, not its parent's
    hwm = max(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
current, top = tracemalloc.get_traced_memory() if heap else (None, None)
print(json.dumps({"code": code, "rss_mb": max(peak[0], hwm) / 1024, "sampled_mb": peak[0] / 1024,
                  "cpu_s": usage.ru_utime + usage.ru_stime,
                  "heap_mb": None if top is None else top / 2**20}), file=sys.stderr)
"""


def _probe(command: list[str], env: dict[str, str], cwd: Path) -> tuple[dict, dict]:
    python = str(cwd / ".venv" / "bin" / "python") if cwd != HERE else sys.executable
    done = subprocess.run([python, "-c", PROBE, *command], env=env, capture_output=True, text=True,
                          cwd=cwd)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise SystemExit(f"{command[:2]} failed: {done.stderr[-600:]}")
    return json.loads(lines[-1]), json.loads(done.stdout)


def run_sync(checkout: Path, url: str, folder: Path, env_extra: dict[str, str]) -> dict:
    """One ``rcflow sync`` of ``checkout`` into ``folder`` (which may hold a prefilled warehouse)."""
    env = dict(os.environ, RCFLOW_HUB_URL=url, RCFLOW_ISSUER=ISSUER, RCFLOW_SECRET=SECRET,
               RCFLOW_CONCURRENCY=str(CONCURRENCY), RCFLOW_WAREHOUSE=str(folder / "warehouse.duckdb"),
               **env_extra)  # fmt: skip
    if checkout != HERE:
        env.pop("PYTHONPATH", None)
    figures, summary = _probe(["-m", "rcflow.cli.main", "sync", "--json", "--no-refresh"], env, checkout)
    figures["stored"] = summary["invoices_new"]
    return figures


def run_peer(url: str, folder: Path, env_extra: dict[str, str]) -> dict:
    env = dict(os.environ, **env_extra)
    figures, summary = _probe([str(PEER), url, ISSUER, SECRET, str(folder), str(CONCURRENCY)], env, HERE)
    figures["stored"] = summary["invoices_new"]
    return figures


# The simulator's first ids (rcflow.connectors.efact.simulator.data): "arrival" ids end below them.
FIRST_INVOICE_ID, FIRST_ATTACHMENT_ID = 159_700_000, 259_000_000
# (copy k, n-th id of the copy) -> new id. "random": a multiplication by an odd number modulo 2^32
# (a bijection), 10 digits; "arrival": consecutive 9-digit ids (3 apart, about the simulator's
# mean step) ending below its first, in the order the copies would have come.
NEW_IDS = {
    "random": "lpad((((k * 100000 + n) * {odd}) % 4294967296)::varchar, 10, '0')",
    "arrival": "({first} - 3 * ((count(*) over () - row_number() over (order by k, n)) + 1))::varchar",
}
ODD = {"invoice": 2654435761, "attachment": 2246822519}


def build_prefill(invoices: int, scratch: Path, ids: str = "random") -> Path:
    """A warehouse (with its published snapshot) holding about ``invoices`` invoices under new ids
    (``ids``: see the module's docstring; neither clashes with the hub's), built once and cached."""
    import duckdb

    target = scratch / (f"prefill-{invoices}" if ids == "random" else f"prefill-{invoices}-{ids}")
    if (target / "warehouse.duckdb").exists():
        return target
    building = Path(tempfile.mkdtemp(prefix="prefill-", dir=scratch))
    with simulator(2000, seed=PREFILL_SEED) as url:
        figures = run_sync(HERE, url, building, {})
    copies = max(1, round(invoices / figures["stored"]))
    con = duckdb.connect(str(building / "warehouse.duckdb"))
    invoice_id = NEW_IDS[ids].format(odd=ODD["invoice"], first=FIRST_INVOICE_ID)
    attachment_id = NEW_IDS[ids].format(odd=ODD["attachment"], first=FIRST_ATTACHMENT_ID)
    con.execute(
        f"create temp table m as select old, k, {invoice_id} as new from (select invoice_id as old, k,"
        " row_number() over (partition by k order by invoice_id) as n"
        f" from raw.invoices, range(1, {copies} + 1) t(k))"
    )
    con.execute(
        f"create temp table am as select old, k, {attachment_id} as new from (select a.attachment_id as old,"
        " m.k, row_number() over (partition by m.k order by a.attachment_id) as n"
        " from raw.attachments a join m on a.invoice_id = m.old)"
    )
    order = "random()" if ids == "random" else "invoice_id"
    for table in RAW_TABLES:
        schema, name = table.split(".")
        columns = [row[0] for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?"
            " order by column_index", [schema, name]).fetchall()]  # fmt: skip
        chosen = {"invoice_id": "m.new", "attachment_id": "am.new"}
        select = ", ".join(chosen.get(c, f'x."{c}"') for c in columns)
        source = f"{table} x join m on x.invoice_id = m.old"
        if "attachment_id" in columns:
            source += " join am on am.old = x.attachment_id and am.k = m.k"
        con.execute(f"insert into {table} select {select} from {source} order by {order}")
        con.execute(f"delete from {table} where invoice_id in (select old from m)")  # the template's
    con.execute("checkpoint")
    con.close()
    from rcflow.warehouse import publish_snapshot

    publish_snapshot(building / "warehouse.duckdb")
    (building / "warehouse.duckdb.snapshot-state").write_text("current", encoding="ascii")
    shutil.rmtree(building / "store", ignore_errors=True)
    building.rename(target)
    return target


def _fresh_folder(scratch: Path, name: str, prefill: Path | None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))
    if prefill is not None:
        for item in prefill.iterdir():
            if item.is_file():
                shutil.copyfile(item, folder / item.name)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 20000])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--python-heap", action="store_true",
                        help="one more run of each program, traced by tracemalloc (slower)")  # fmt: skip
    parser.add_argument("--base", type=Path, default=None, help="another checkout: its sync as 'before'")
    parser.add_argument("--prefill", type=int, default=0, metavar="N",
                        help="rcflow runs start from ~N invoices")  # fmt: skip
    parser.add_argument("--prefill-ids", choices=sorted(NEW_IDS), default="random",
                        help="the prefilled invoices' ids (see above)")  # fmt: skip
    parser.add_argument("--scratch", type=Path, default=Path.home() / ".cache" / "rcflow-bench")
    parser.add_argument("--child-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="set in the syncs' processes only")  # fmt: skip
    args = parser.parse_args()
    child_env = dict(item.split("=", 1) for item in args.child_env)
    args.scratch.mkdir(parents=True, exist_ok=True)
    prefill = build_prefill(args.prefill, args.scratch, args.prefill_ids) if args.prefill else None
    pyc = tempfile.mkdtemp(prefix="pyc-", dir=args.scratch)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = pyc
    programs = {}
    if args.base is not None:
        base = args.base.resolve()
        programs["before"] = lambda url, folder: run_sync(base, url, folder, child_env)
    programs["after"] = lambda url, folder: run_sync(HERE, url, folder, child_env)
    if prefill is None:
        programs["peer"] = lambda url, folder: run_peer(url, folder, {})
    runs_folder = Path(tempfile.mkdtemp(prefix="runs-", dir=args.scratch))
    try:
        for run in programs.values():  # bytecode cached: no run below compiles
            with simulator(WARM_UP) as url:
                run(url, _fresh_folder(runs_folder, "warm", None))
        _profile(args, programs, child_env, prefill, runs_folder)
    finally:
        shutil.rmtree(runs_folder, ignore_errors=True)
        shutil.rmtree(pyc, ignore_errors=True)


def _profile(args: argparse.Namespace, programs: dict, child_env: dict[str, str], prefill: Path | None,
             runs_folder: Path) -> None:  # fmt: skip
    names = list(programs)
    prefilled = f"{args.prefill} ({args.prefill_ids} ids)" if args.prefill else "none"
    print(f"programs: {', '.join(names)}; prefill: {prefilled}; "
          f"sync env: {' '.join(args.child_env) or 'default'}; {args.runs} runs each, medians")  # fmt: skip
    print(f"| invoices | time (UTC), load avg | peak RSS MB {', '.join(names)} "
          f"| Python heap peak MB {', '.join(names)} | CPU ms/inv {', '.join(names)} | runs' peak RSS MB |")
    print("|---:|---|---:|---:|---:|---|")
    for size in args.sizes:
        started, load = time.strftime("%H:%M", time.gmtime()), os.getloadavg()[0]
        results: dict[str, list[dict]] = {name: [] for name in names}
        for _ in range(args.runs):
            for name, run in programs.items():
                with simulator(size) as url:
                    folder = _fresh_folder(runs_folder, name, prefill if name != "peer" else None)
                    results[name].append(run(url, folder))
                    shutil.rmtree(folder, ignore_errors=True)
        heap = {name: "n/a" for name in names}
        if args.python_heap:
            os.environ["PROBE_PYTHON_HEAP"] = "1"
            for name, run in programs.items():
                with simulator(size) as url:
                    folder = _fresh_folder(runs_folder, name, prefill if name != "peer" else None)
                    heap[name] = f"{run(url, folder)['heap_mb']:.0f}"
                    shutil.rmtree(folder, ignore_errors=True)
            os.environ.pop("PROBE_PYTHON_HEAP")
        for name, got in results.items():
            if any(r["stored"] != size or r["code"] not in (0, None) for r in got):
                raise SystemExit(f"{name} did not store the {size} invoices: {got}")
        rss = {n: statistics.median(r["rss_mb"] for r in got) for n, got in results.items()}
        cpu = {n: statistics.median(r["cpu_s"] for r in got) / size * 1000 for n, got in results.items()}
        each = "; ".join(n + " " + " ".join(f"{r['rss_mb']:.0f}" for r in got) for n, got in results.items())
        ended, load_after = time.strftime("%H:%M", time.gmtime()), os.getloadavg()[0]
        print(f"| {size} | {started}–{ended}, {load:.1f}–{load_after:.1f} "
              f"| {', '.join(f'{rss[n]:.0f}' for n in names)} | {', '.join(heap[n] for n in names)} "
              f"| {', '.join(f'{cpu[n]:.2f}' for n in names)} | {each} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
