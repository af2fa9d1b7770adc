"""The benchmarks still run: each script imports, the simulators they start come up, and the
ones behind the README's headline figures run end to end on a tiny workload.

Benchmarks are scripts, not timed tests (bench/), so nothing else runs them: the FACe ones had
kept starting their simulator with a command line that no longer existed, and failed at once.
Nothing here times anything; the tiny runs check that each bench completes and prints its table.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py"))


@pytest.fixture
def bench_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))  # as running a script from bench/ does


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_each_bench_script_imports(script: Path, bench_on_path: None) -> None:
    spec = importlib.util.spec_from_file_location(f"_bench_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)  # each runs only under __main__
    finally:
        sys.modules.pop(spec.name, None)


def test_the_face_benches_start_their_simulator(bench_on_path: None) -> None:
    from bench_face import face_simulator

    from rcflow.connectors.face.simulator.certs import make_identity

    with face_simulator(make_identity("bench test"), invoices=2) as (url, admin, trusted, pid):
        assert url.endswith("/facturasrcf2") and trusted and pid > 0
        assert httpx.get(f"{admin}/log", timeout=10).status_code == 200


def test_the_efact_benches_start_their_simulator(bench_on_path: None) -> None:
    from _simproc import simulator

    with simulator(2) as url:
        assert httpx.get(url.rsplit("/", 1)[0] + "/_sim/log", timeout=10).status_code == 200


def _bench(script: str, *args: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:] or done.stdout[-2000:]
    return done.stdout


@pytest.mark.slow
def test_the_sync_bench_runs_rcflow_and_the_peer_side_by_side(tmp_path: Path) -> None:
    out = _bench("bench_sync_vs_peer.py", "--sizes", "30", "--latencies", "0", "20", "--runs", "1",
                 "--scratch", str(tmp_path))  # fmt: skip
    rows = [line for line in out.splitlines() if line.startswith(("| 0 ms | 30 |", "| 20 ms | 30 |"))]
    assert len(rows) == 2, out
    twenty = [cell.strip() for cell in rows[1].strip("|").split("|")]
    assert float(twenty[5]) > 0  # rcflow ÷ the concurrency bound, printed at 20 ms


@pytest.mark.slow
def test_the_report_bench_finds_one_pmp_three_ways() -> None:
    out = _bench("bench_reports.py", "--invoices", "3000", "--repeat", "1")
    [line] = [row for row in out.splitlines() if row.startswith("| global PMP")]
    assert line.rstrip(" |").endswith("| same"), line  # the reports, the PMP-only build, the hand query
