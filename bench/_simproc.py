"""Run the eFACT simulator in its own process for benchmarks (so it does not share our GIL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

ISSUER = "bench"
SECRET = "bench-secret-0123456789-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def simulator(invoices: int, *, seed: int = 1, latency_ms: float = 0.0) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ, BENCH_SECRET=SECRET)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rcflow.cli.main", "hub", "serve", "--port", str(port),
         "--invoices", str(invoices), "--seed", str(seed), "--issuer", ISSUER,
         "--secret-env", "BENCH_SECRET", "--latency-ms", str(latency_ms)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/_sim/stats", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("simulator did not start") from None
            time.sleep(0.2)
    try:
        yield base + "/rcf"
    finally:
        proc.terminate()
        proc.wait(10)


def set_latency(base_url: str, latency_ms: float) -> None:
    root = base_url.rsplit("/rcf", 1)[0]
    body = json.dumps({"latency_ms": latency_ms}).encode()
    request = urllib.request.Request(root + "/_sim/faults", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=5).read()
