"""Calls/s the FACe client sustains against its simulator, vs the concurrency bound, and its CPU.

The simulator runs in its own process (``python -m rcflow.connectors.face.simulator serve``), so
the client's CPU is measured alone: ``client CPU/call`` is the client process's CPU time per call;
``sign`` and ``verify`` are the parts of it spent on WS-Security (signing the request, verifying
FACe's signature on the answer). The bound for C calls in flight against a service answering in
L seconds is C / L calls/s; at 0 ms added latency there is none (the CPUs are the limit, and on
this 2-core machine the simulator's own signing shares them).

Run: .venv/bin/python bench/bench_face.py
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from cryptography import x509

from rcflow.cli.hub_cmds import SERVER_PEM
from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.credentials import FaceCredentials, load_trusted_certificates
from rcflow.connectors.face.simulator.certs import certificate_pem, make_identity

DURATION = 3.0  # seconds per cell
CELLS = [  # (operation, added latency ms, concurrency)
    ("consultarFactura", 0.0, 1),
    ("consultarFactura", 0.0, 8),
    ("consultarFactura", 20.0, 1),
    ("consultarFactura", 20.0, 8),
    ("consultarFactura", 20.0, 32),
    ("descargarFactura", 20.0, 8),
]


async def measure(
    client: FaceClient, operation: str, concurrency: int, numbers: list[str]
) -> dict[str, float]:
    call = client.status if operation == "consultarFactura" else client.download
    await call(numbers[0])  # warm the connections
    stats_before = (client.stats.calls, client.stats.sign_cpu, client.stats.verify_cpu)
    cpu_before = time.process_time()
    stop = time.perf_counter() + DURATION
    done = 0

    async def worker(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < stop:
            await call(numbers[i % len(numbers)])
            done += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    calls = client.stats.calls - stats_before[0]
    return {
        "rate": done / elapsed,
        "cpu_ms": (time.process_time() - cpu_before) / calls * 1000,
        "sign_ms": (client.stats.sign_cpu - stats_before[1]) / calls * 1000,
        "verify_ms": (client.stats.verify_cpu - stats_before[2]) / calls * 1000,
    }


async def run(
    url: str, admin: str, identity: FaceCredentials, trusted: list[x509.Certificate]
) -> list[tuple]:
    rows = []
    async with FaceClient(url, identity, trusted) as client:
        numbers = [i.registry_number for i in (await client.new_invoices()).invoices]
    async with httpx.AsyncClient() as http:
        for operation, latency, concurrency in CELLS:
            await http.post(f"{admin}/faults", json={"latency_ms": latency})
            async with FaceClient(url, identity, trusted, concurrency=concurrency) as client:
                result = await measure(client, operation, concurrency, numbers)
            rows.append((operation, latency, concurrency, result))
    return rows


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def face_simulator(
    identity: FaceCredentials, *, invoices: int, latency_ms: float = 0.0
) -> Iterator[tuple[str, str, list[x509.Certificate], int]]:
    """A FACe simulator process trusting ``identity``: (service URL, admin URL, FACe's
    certificates, its pid)."""
    with tempfile.TemporaryDirectory() as tmp:
        client_pem, face_pem = Path(tmp, "client.pem"), Path(tmp, SERVER_PEM)
        client_pem.write_bytes(certificate_pem(identity))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rcflow.connectors.face.simulator",
                "--port",
                "0",
                "--invoices",
                str(invoices),
                "--processed",
                "0",
                "--cancellations",
                "0",
                "--latency-ms",
                str(latency_ms),
                "--register",
                str(client_pem),
                "--dir",
                tmp,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            found = re.search(r"(http://\S+)/facturasrcf2", process.stdout.readline())  # type: ignore[union-attr]
            if not found:
                raise SystemExit("the FACe simulator did not start")
            root = found.group(1)
            trusted = list(load_trusted_certificates(face_pem))
            yield root + "/facturasrcf2", root + "/_sim", trusted, process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    identity = make_identity("rcflow bench platform")
    with face_simulator(identity, invoices=300) as (url, admin, trusted, _):
        rows = asyncio.run(run(url, admin, identity, trusted))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min) at the end of the run")
    print(
        "| operation | added latency | concurrency | calls/s | bound (C/L) | ratio "
        "| client CPU/call | sign | verify |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for operation, latency, concurrency, r in rows:
        bound = concurrency / (latency / 1000) if latency else None
        ratio = f"{r['rate'] / bound:.2f}" if bound else "n/a"
        bound_text = f"{bound:.0f}" if bound else "n/a (CPU-bound)"
        print(
            f"| {operation} | {latency:.0f} ms | {concurrency} | {r['rate']:.0f} | {bound_text} | {ratio} "
            f"| {r['cpu_ms']:.2f} ms | {r['sign_ms']:.2f} ms | {r['verify_ms']:.2f} ms |"
        )


if __name__ == "__main__":
    main()
