"""Benchmark credentials and the simulator in its own process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rcflow.connectors.efact.simulator.process import set_faults, simulator_process

ISSUER = "bench"
SECRET = "bench-secret-0123456789-abcdefghijklmnop"


@contextmanager
def simulator(invoices: int, *, seed: int = 1, latency_ms: float = 0.0) -> Iterator[str]:
    with simulator_process(
        issuer=ISSUER, secret=SECRET, invoices=invoices, seed=seed, latency_ms=latency_ms
    ) as url:
        yield url


def set_latency(base_url: str, latency_ms: float) -> None:
    set_faults(base_url, latency_ms=latency_ms)
