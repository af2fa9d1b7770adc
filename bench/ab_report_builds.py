"""A/B of the report's dbt build: two checkouts alternating build by build on one machine.

Each checkout runs in a process of its own (its ``.venv``), parses the project and builds once
untimed; once both are ready the two take turns (through a turn file): build, hand over, wait. So both see the
same load, build by build, which a shared machine needs. Prints each build's wall time and the
sum of its nodes' execution times, then each side's median.

Run (each checkout with ``make install`` done, each warehouse synthesised by
``bench_reports.py --keep DIR``):
    .venv/bin/python bench/ab_report_builds.py --a ../base --a-warehouse /tmp/bkeep/warehouse.duckdb \
        --b . --b-warehouse /tmp/br/warehouse.duckdb [--builds 5] [--checks]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def worker(name: str, other: str, warehouse: Path, builds: int, checks: bool, turn: Path) -> None:
    """One side: build once untimed, then ``builds`` timed builds, each on its turn."""
    from rcflow.reports import Readings, parse_period
    from rcflow.reports.dbt_runner import run_dbt_build
    from rcflow.warehouse import snapshot_path_for

    try:  # period_vars(period, today) since the as-of-today rules; before: _period_vars(period)
        from rcflow import clock
        from rcflow.reports.build import period_vars

        variables = {**period_vars(parse_period("2025-11"), clock.today()), **Readings().to_vars()}
    except ImportError:
        from rcflow.reports.build import _period_vars  # type: ignore[attr-defined]

        variables = {**_period_vars(parse_period("2025-11")), **Readings().to_vars()}

    def build() -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            run = run_dbt_build(snapshot=snapshot_path_for(warehouse), reports_db=Path(tmp) / "r.duckdb",
                                variables=variables, work_dir=Path(tmp), checks=checks)  # fmt: skip
            return time.perf_counter() - started, sum(run.node_seconds.values())

    build()  # parse and warm up
    turn.with_name(f"ready-{name}").touch()
    walls = []
    for k in range(builds):
        while turn.read_text().strip() != name:
            time.sleep(0.05)
        wall, nodes = build()
        walls.append(wall)
        load = Path("/proc/loadavg").read_text().split()[0]
        print(f"{name} build {k}: {wall:.2f} s wall, {nodes:.2f} s of node time, load {load}", flush=True)
        turn.write_text(other)
    print(f"{name} median {statistics.median(walls):.2f} s, min {min(walls):.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", type=Path, required=True, help="checkout A (with its .venv)")
    parser.add_argument("--a-warehouse", type=Path, required=True)
    parser.add_argument("--b", type=Path, required=True, help="checkout B (with its .venv)")
    parser.add_argument("--b-warehouse", type=Path, required=True)
    parser.add_argument("--builds", type=int, default=5)
    parser.add_argument("--checks", action="store_true", help="with dbt's data tests")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)  # name other turn-file
    args = parser.parse_args()
    if args.worker:
        name, other, turn = args.worker
        warehouse = args.a_warehouse if name == "A" else args.b_warehouse
        worker(name, other, warehouse, args.builds, args.checks, Path(turn))
        return
    with tempfile.TemporaryDirectory(prefix="rcflow-ab-") as tmp:
        turn = Path(tmp) / "turn"
        turn.write_text("nobody")
        common = ["--a", str(args.a), "--a-warehouse", str(args.a_warehouse), "--b", str(args.b),
                  "--b-warehouse", str(args.b_warehouse), "--builds", str(args.builds),
                  *(["--checks"] if args.checks else [])]  # fmt: skip
        script = str(Path(__file__).resolve())
        sides = [
            subprocess.Popen([str(checkout.resolve() / ".venv" / "bin" / "python"), script,
                              *common, "--worker", name, other, str(turn)],
                             cwd=checkout, stderr=subprocess.DEVNULL)  # fmt: skip
            for name, other, checkout in (("A", "B", args.a), ("B", "A", args.b))
        ]
        ready = [turn.with_name(f"ready-{name}") for name in ("A", "B")]
        while not all(r.exists() for r in ready) and all(side.poll() is None for side in sides):
            time.sleep(0.2)  # each side parses and builds once, untimed, before the first turn
        turn.write_text("A")
        codes = [s.wait() for s in sides]
    sys.exit(max(codes))


if __name__ == "__main__":
    main()
