"""`rcflow sync` starts no OpenBLAS worker threads: numpy, which pyarrow imports, would start
them (they spin for a while after start-up, about 1 % of a 2,000-invoice sync's CPU), and the
sync does no linear algebra. A setting of the operator's own is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, sys
from rcflow.cli.main import app
try:
    app(["sync", "--help"], prog_name="rcflow")
except SystemExit:
    pass
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print(json.dumps({"numpy": "numpy" in sys.modules, "setting": os.environ.get("OPENBLAS_NUM_THREADS"),
                  "python_threads": names.count(names[0])}))
"""


def _probe(setting: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if setting is not None:
        env["OPENBLAS_NUM_THREADS"] = setting
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120,
                          check=True)  # fmt: skip
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="threads are counted in /proc")
def test_the_sync_command_loads_numpy_without_blas_worker_threads() -> None:
    probe = _probe(None)
    assert probe["numpy"] is True  # the probe sees what the sync imports
    assert probe["setting"] == "1" and probe["python_threads"] == 1


def test_an_operators_setting_is_kept() -> None:
    assert _probe("2")["setting"] == "2"
