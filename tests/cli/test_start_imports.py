"""Start-up of the command line: a command imports only what it needs (``rcflow sync`` loads no
polars, pandas, GX, dbt, Prefect or PDF code), and ``rcflow --help`` still lists every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from rcflow.cli.main import COMMANDS, app, load_command
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import start_simulator

HEAVY = ("polars", "pandas", "pypdf", "great_expectations", "dbt", "prefect", "jinja2", "sqlalchemy")
ISSUER = "start_tests"
SECRET = "start-tests-secret-0123456789-abcdefghijk"
# Runs the command line in a fresh interpreter, then prints the top-level modules it imported.
PROBE = """
import json, sys
from rcflow.cli.main import app
try:
    app(sys.argv[1:], prog_name="rcflow")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _imported(*args: str, env: dict[str, str] | None = None) -> tuple[object, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return probe["code"], set(probe["modules"])


def test_sync_help_imports_no_heavy_module() -> None:
    code, modules = _imported("sync", "--help")
    assert code == 0
    assert "rcflow" in modules and "duckdb" in modules  # the probe sees the sync's own imports
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_a_real_sync_imports_no_heavy_module(tmp_path: Path) -> None:
    config = SimConfig(seed=5, invoices=60, entities=2, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        env = dict(os.environ, RCFLOW_HUB_URL=sim.base_url, RCFLOW_ISSUER=ISSUER, RCFLOW_SECRET=SECRET,
                   RCFLOW_WAREHOUSE=str(tmp_path / "warehouse.duckdb"))  # fmt: skip
        code, modules = _imported("sync", "--json", env=env)
    assert code == 0
    assert "pyarrow" in modules
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))
    assert "signxml" not in modules  # FACe's signing is loaded only when FACe is configured


def test_help_lists_every_command_with_its_help() -> None:
    result = CliRunner().invoke(app, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    for name in COMMANDS:
        command = load_command(name)
        summary = command.get_short_help_str(limit=30).split()[0]
        assert summary and any(
            line.split("│")[1].split()[:2] == [name, summary]
            for line in result.stdout.splitlines() if line.count("│") >= 2 and line.split("│")[1].split()
        ), name  # fmt: skip


def test_every_command_keeps_its_options() -> None:
    sync = load_command("sync")
    assert {p.name for p in sync.params} == {"hub", "nif", "office", "refresh", "as_json"}
    hub = load_command("hub")
    assert hub.name == "hub" and "serve" in hub.commands  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, ["sync", "--bogus"])
    assert result.exit_code == 2


def test_pyarrow_without_pandas_still_converts_to_pandas() -> None:
    script = """
import sys
import pyarrow as pa
from rcflow.ingest.rows import INVOICE_SCHEMA, arrow_without_pandas
arrow_without_pandas()
table = pa.Table.from_pylist([{"invoice_id": "a"}], schema=INVOICE_SCHEMA)
print("pandas" in sys.modules)
print(type(table.to_pandas()).__name__, "pandas" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "DataFrame", "True"]
