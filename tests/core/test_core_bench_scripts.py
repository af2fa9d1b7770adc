"""The benchmarks still run: each script imports, and the simulators they start come up.

Benchmarks are scripts, not timed tests (bench/), so nothing else runs them: the FACe ones had
kept starting their simulator with a command line that no longer existed, and failed at once.
"""

from __future__ import annotations

import importlib.util
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
