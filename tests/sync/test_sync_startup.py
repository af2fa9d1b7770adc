"""`rcflow sync`'s fixed costs: it starts no OpenBLAS worker threads (numpy, which pyarrow
imports, would start them: they spin for a while after start-up, about 1 % of a 2,000-invoice
sync's CPU, and the sync does no linear algebra; a setting of the operator's own is kept); with
``--json`` it loads no rich; its shutdown skips the garbage collector's
passes over the heap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sync_support import ISSUER, SECRET

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


# A real `rcflow sync --json` in a fresh interpreter. The probe's exit hook is registered before
# the command's (exit hooks run last-registered first), so it sees the heap as the shutdown will.
SYNC_PROBE = """
import atexit, gc, json, os, sys

def seen():
    with open(os.environ["PROBE_OUT"], "w") as out:
        json.dump({"frozen": gc.get_freeze_count(),
                   "modules": sorted({m.split(".")[0] for m in sys.modules})}, out)

atexit.register(seen)
from rcflow.cli.main import app
app(["sync", "--json", "--no-refresh"], prog_name="rcflow")
"""


def test_a_json_sync_skips_what_it_does_not_use_at_start_and_exit(sim, tmp_path: Path) -> None:
    """`rcflow sync --json` does not load rich (it prints no table), and its interpreter's
    shutdown skips the garbage collector's passes over the heap (frozen at exit, ~0.1 s of CPU
    less); its output and exit code are whole."""
    out = tmp_path / "probe.json"
    env = dict(os.environ, RCFLOW_HUB_URL=sim.base_url, RCFLOW_ISSUER=ISSUER, RCFLOW_SECRET=SECRET,
               RCFLOW_WAREHOUSE=str(tmp_path / "warehouse.duckdb"), PROBE_OUT=str(out))  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", SYNC_PROBE], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["ok"] and summary["invoices_new"] == summary["invoices_acknowledged"] > 0
    assert proc.stderr == ""  # nanobind's report of the objects left at exit is hushed
    probe = json.loads(out.read_text())
    assert probe["frozen"] > 10_000  # the whole heap, not the drain's freeze (undone after it)
    assert {"rcflow", "pyarrow", "duckdb"} <= set(probe["modules"])  # the probe sees the sync's
    assert "rich" not in probe["modules"]
