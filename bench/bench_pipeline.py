"""Pipeline runs (sync → check → push → report) with the read snapshot published per writer
session (before) and lazily, once per read after writes, the checks reading the live file
(after): wall time, bytes written, snapshot copies, side by side, for a first run into a new
warehouse and the next run on it.

Both modes run the same code on the same simulated hub (N pending invoices, in its own process),
each in a fresh process of its own (download workers off, so every byte written is that
process's): "before"
republishes the snapshot when each writer session ends, as rcflow did up to issue 13. Bytes
written are the process's write-call bytes (/proc/self/io wchar: database pages, snapshot
copies, blobs, report files).

Run: .venv/bin/python bench/bench_pipeline.py [N]   (default 2000)
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, simulator  # noqa: E402

from rcflow.config import Settings  # noqa: E402
from rcflow.ingest.run import run_sync  # noqa: E402
from rcflow.push.run import run_push  # noqa: E402
from rcflow.quality.runner import run_checks  # noqa: E402
from rcflow.reports import build_reports  # noqa: E402
from rcflow.warehouse import db  # noqa: E402

PERIOD = f"{date.today().replace(day=1) - timedelta(days=1):%Y-%m}"  # last month


def _written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


@contextmanager
def counting_copies(eager: bool) -> Iterator[list[int]]:
    """Count snapshot copies; with ``eager``, publish when each writer session ends (before)."""
    copies = [0]
    publish, leave = db.publish_snapshot, db.Warehouse.__exit__

    def counted(warehouse: Path) -> Path:
        copies[0] += 1
        return publish(warehouse)

    def eager_exit(self: db.Warehouse, *exc: object) -> None:
        try:
            leave(self, *exc)  # type: ignore[arg-type]
        finally:
            if db.snapshot_state(self.path) == db.STALE:
                counted(self.path)
                db._set_state(self.path, db.CURRENT)

    db.publish_snapshot = counted  # type: ignore[assignment]
    if eager:
        db.Warehouse.__exit__ = eager_exit  # type: ignore[method-assign]
    try:
        yield copies
    finally:
        db.publish_snapshot, db.Warehouse.__exit__ = publish, leave  # type: ignore[method-assign]


def pipeline(base_url: str, folder: Path, *, eager: bool) -> list[dict[str, float]]:
    """Two runs: the first into a new warehouse (whose first session publishes at once), then
    the steady state, a run on an existing warehouse (the hub's queue is empty by then)."""
    return [one_run(base_url, folder, eager=eager) for _ in range(2)]


def one_run(base_url: str, folder: Path, *, eager: bool) -> dict[str, float]:
    warehouse = folder / "warehouse.duckdb"
    settings = Settings(hub_url=base_url, issuer=ISSUER, secret=SecretStr(SECRET), warehouse=warehouse,
                        workers=1, concurrency=16)  # fmt: skip
    with counting_copies(eager) as copies:
        written, started = _written(), time.perf_counter()
        asyncio.run(run_sync(settings))
        run_checks(warehouse)
        asyncio.run(run_push(settings))
        build_reports(warehouse, PERIOD, folder / "reports", checks=False)
        seconds, written = time.perf_counter() - started, _written() - written
    return {"seconds": seconds, "mib_written": written / 2**20, "copies": copies[0],
            "warehouse_mib": warehouse.stat().st_size / 2**20}  # fmt: skip


def one(mode: str, invoices: int) -> list[dict[str, float]]:
    """One pipeline run in a fresh process (both modes start cold: imports, dbt parse)."""
    out = subprocess.run([sys.executable, __file__, "--mode", mode, str(invoices)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    invoices = int(args[-1]) if args else 2000
    if "--mode" in sys.argv:  # the child: one run, its figures as JSON
        mode = sys.argv[sys.argv.index("--mode") + 1]
        logging.disable(logging.WARNING)
        with simulator(invoices, seed=7) as url, tempfile.TemporaryDirectory(prefix="rcflow-bench-") as tmp:
            print(json.dumps(pipeline(url, Path(tmp), eager=mode == "before")))
        return
    before, after = one("before", invoices), one("after", invoices)
    print(f"pipeline run, {invoices} invoices (sync → check → push → report {PERIOD})")
    for label, b, a in (("first run, new warehouse", before[0], after[0]),
                        ("next run, same warehouse", before[1], after[1])):  # fmt: skip
        print(f"{label:28}{'before':>10}{'after':>10}")
        print(f"{'  wall time (s)':28}{b['seconds']:>10.1f}{a['seconds']:>10.1f}")
        print(f"{'  MiB written':28}{b['mib_written']:>10.1f}{a['mib_written']:>10.1f}")
        print(f"{'  snapshot copies':28}{b['copies']:>10d}{a['copies']:>10d}")
        print(f"{'  warehouse size (MiB)':28}{b['warehouse_mib']:>10.1f}{a['warehouse_mib']:>10.1f}")


if __name__ == "__main__":
    main()
