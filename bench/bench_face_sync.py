"""rcflow's sync of N FACe invoices through the real Syncer: invoices/s against the bound, CPU.

A FACe simulator process with N invoices waiting and L ms added latency per call; in this
process, rcflow's ``Syncer`` drains it through ``FaceConnector`` into a real DuckDB warehouse and
blob store (temporary), exactly as ``rcflow sync`` would. Figures:

* invoices/s: invoices stored and confirmed per second of the drain;
* bound: C connections, each call at least L, R calls per invoice (measured: descargarFactura,
  consultarFactura, confirmarDescargaFactura, the listings amortised) → C / (R × L) invoices/s;
* client CPU/invoice: this process's CPU time (signing, verifying, decoding, hashing, parsing the
  Facturae, the warehouse commits) per invoice; ``sign``/``verify``: the WS-Security part of it;
* simulator CPU/invoice (it signs its answers and verifies our requests too) and the CPU bound:
  the machine's cores over both CPU costs per invoice, the most any run here could reach.

The simulator signs and verifies too, on the same (2-core, shared) machine: at low latency the
CPUs, not the network, are the limit, and the ratio says so.

Run: .venv/bin/python bench/bench_face_sync.py [N] [LATENCY_MS ...]   (default: 600, 20 50)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_face import face_simulator, process_cpu  # noqa: E402

from rcflow.connectors.face.client import FaceClient  # noqa: E402
from rcflow.connectors.face.connector import FaceConnector  # noqa: E402
from rcflow.connectors.face.credentials import FaceCredentials  # noqa: E402
from rcflow.connectors.face.simulator.certs import make_identity  # noqa: E402
from rcflow.ingest.rows import arrow_without_pandas  # noqa: E402
from rcflow.ingest.sync import Syncer, SyncSummary  # noqa: E402
from rcflow.store import BlobStore  # noqa: E402
from rcflow.warehouse import Warehouse  # noqa: E402
from rcflow.warehouse.runs import new_run_id  # noqa: E402

CONCURRENCY = (8, 16)
WINDOW_PER_CONNECTION = 2


async def drain(
    url: str, identity: FaceCredentials, trusted: list, concurrency: int, sim_pid: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, Warehouse(Path(tmp) / "warehouse.duckdb") as wh:
        store = BlobStore(Path(tmp) / "store")
        client = FaceClient(url, identity, trusted, concurrency=concurrency)
        connector = FaceConnector(client, store)
        summary = SyncSummary(run_id=new_run_id("bench"))
        syncer = Syncer(connector, wh, store, summary, window=concurrency * WINDOW_PER_CONNECTION)
        cpu, sim_cpu, started = time.process_time(), process_cpu(sim_pid), time.perf_counter()
        try:
            await syncer.drain()
        finally:
            await connector.aclose()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        sim_cpu = process_cpu(sim_pid) - sim_cpu
        stats = client.stats
        done = summary.invoices_acknowledged
        if not summary.ok or done == 0:
            raise SystemExit(f"the sync did not complete: {summary.deferred[:3]} {summary.stopped_early}")
        return {
            "invoices": done,
            "seconds": elapsed,
            "rate": done / elapsed,
            "calls_per_invoice": stats.calls / done,
            "cpu_ms": cpu / done * 1000,
            "sign_ms": stats.sign_cpu / done * 1000,
            "verify_ms": stats.verify_cpu / done * 1000,
            "sim_cpu_ms": sim_cpu / done * 1000,
        }


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 600
    latencies = [float(x) for x in argv[1:]] or [20.0, 50.0]
    identity = make_identity("rcflow bench platform")
    arrow_without_pandas()  # as `rcflow sync` does: pyarrow's pandas probe is not the sync's cost
    rows = []
    for latency in latencies:
        for concurrency in CONCURRENCY:
            with face_simulator(identity, invoices=n, latency_ms=latency) as (url, _, trusted, pid):
                result = asyncio.run(drain(url, identity, trusted, concurrency, pid))
            rows.append((latency, concurrency, result))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end of the run")
    cores = os.cpu_count() or 1
    print(
        "| N | latency | connections | invoices/s | calls/invoice | bound C/(R·L) | ratio "
        "| client CPU/invoice | sign | verify | simulator CPU/invoice | CPU bound | ratio to it |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for latency, concurrency, r in rows:
        bound = concurrency / (r["calls_per_invoice"] * latency / 1000)
        # Client and simulator share this machine's cores: together they cannot exceed this.
        cpu_bound = cores / ((r["cpu_ms"] + r["sim_cpu_ms"]) / 1000)
        print(
            f"| {r['invoices']:.0f} | {latency:.0f} ms | {concurrency} | {r['rate']:.1f} "
            f"| {r['calls_per_invoice']:.2f} | {bound:.1f} | {r['rate'] / bound:.2f} "
            f"| {r['cpu_ms']:.2f} ms | {r['sign_ms']:.2f} ms | {r['verify_ms']:.2f} ms "
            f"| {r['sim_cpu_ms']:.2f} ms | {cpu_bound:.1f} | {r['rate'] / cpu_bound:.2f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
