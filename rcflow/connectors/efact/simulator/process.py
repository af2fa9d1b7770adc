"""Run the simulator in its own process (demo, benchmarks): it then does not share our GIL."""

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

SECRET_ENV = "RCFLOW_SIM_SECRET"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def simulator_process(
    *,
    issuer: str,
    secret: str,
    invoices: int,
    seed: int = 1,
    latency_ms: float = 0.0,
    hostile_rate: float = 0.0,
    startup_timeout: float = 120.0,
) -> Iterator[str]:
    """Start ``rcflow hub serve`` on a free loopback port; yields the base URL (``…/rcf``)."""
    port = free_port()
    env = dict(os.environ, **{SECRET_ENV: secret})  # the secret never goes on a command line
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rcflow.connectors.efact.simulator",
            "serve",
            "--port",
            str(port),
            "--invoices",
            str(invoices),
            "--seed",
            str(seed),
            "--issuer",
            issuer,
            "--secret-env",
            SECRET_ENV,
            "--latency-ms",
            str(latency_ms),
            "--hostile-rate",
            str(hostile_rate),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup_timeout
    try:
        while True:
            try:
                urllib.request.urlopen(root + "/_sim/stats", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the eFACT simulator process did not start") from None
                time.sleep(0.1)
        yield root + "/rcf"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def set_faults(base_url: str, **faults: float) -> None:
    """Change the running simulator's random faults (``latency_ms=20``, …)."""
    root = base_url.rsplit("/rcf", 1)[0]
    request = urllib.request.Request(
        root + "/_sim/faults",
        data=json.dumps(faults).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).read()
