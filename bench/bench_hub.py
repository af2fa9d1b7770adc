"""Requests/s the hub client sustains against the simulator, vs the concurrency bound.

The bound for a client with C requests in flight against a hub answering in L seconds is C / L
requests per second. At 0 ms added latency there is no such bound (the CPU is the limit).

Run: .venv/bin/python bench/bench_hub.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _simproc import ISSUER, SECRET, set_latency, simulator  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from rcflow.connectors.efact import HubClient  # noqa: E402

DURATION = 4.0  # seconds per cell


async def measure(base_url: str, concurrency: int, ids: list[str]) -> float:
    async with HubClient(base_url, ISSUER, SecretStr(SECRET), concurrency=concurrency) as hub:
        await hub.entities()  # warm the connection pool
        done = 0
        stop = time.perf_counter() + DURATION

        async def worker(offset: int) -> None:
            nonlocal done
            i = offset
            while time.perf_counter() < stop:
                await hub.invoice(ids[i % len(ids)])
                done += 1
                i += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        return done / (time.perf_counter() - started)


def main() -> None:
    rows = []
    with simulator(500) as base_url:

        async def pending_ids() -> list[str]:
            async with HubClient(base_url, ISSUER, SecretStr(SECRET)) as hub:
                return [f.id for f in (await hub.pending_invoices()).factures]

        ids = asyncio.run(pending_ids())
        for latency in (0.0, 20.0):
            set_latency(base_url, latency)
            for concurrency in (1, 8, 32):
                rate = asyncio.run(measure(base_url, concurrency, ids))
                bound = concurrency / (latency / 1000) if latency else None
                rows.append((latency, concurrency, rate, bound))
    print("| added latency | concurrency | requests/s | bound (C/L) | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for latency, concurrency, rate, bound in rows:
        ratio = f"{rate / bound:.2f}" if bound else "n/a"
        bound_text = f"{bound:.0f}" if bound else "n/a (CPU-bound)"
        print(f"| {latency:.0f} ms | {concurrency} | {rate:.0f} | {bound_text} | {ratio} |")


if __name__ == "__main__":
    main()
