"""The command line as an operator meets it: exit codes, one-line errors, JSON, read-only SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import start_simulator

ISSUER = "cli_tests"
SECRET = "cli-tests-secret-0123456789-abcdefghijklmn"
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = SimConfig(seed=3, invoices=25, backfill=12, entities=2, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        values = {
            "RCFLOW_HUB_URL": sim.base_url,
            "RCFLOW_ISSUER": ISSUER,
            "RCFLOW_SECRET": SECRET,
            "RCFLOW_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        yield sim, values


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_sync_json_status_and_sql(env) -> None:
    sim, _ = env
    result = invoke("sync", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["invoices_new"] == summary["invoices_acknowledged"] > 0 and summary["ok"]
    status = invoke("status", "--json")
    assert status.exit_code == 0
    data = json.loads(status.stdout)
    assert sum(s["count"] for s in data["invoices_by_state"]) == summary["invoices_new"]
    rows = invoke("sql", "select hub_state, count(*) as n from invoices group by 1", "--format", "json")
    assert rows.exit_code == 0 and json.loads(rows.stdout)[0]["hub_state"] == "DELIVERED"
    csv_out = invoke("sql", "select invoice_id from invoices order by 1 limit 2", "-f", "csv")
    assert csv_out.stdout.splitlines()[0] == "invoice_id" and len(csv_out.stdout.splitlines()) == 3
    table = invoke("sql", "select count(*) as n from attachments")
    assert table.exit_code == 0 and "1 row" in table.stdout and "1 rows" not in table.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "delete from raw.invoices",
        "insert into raw.entities values ('x','y','z', null, now())",
        "drop view invoices",
        "attach '/tmp/other.duckdb' as o",
        "copy (select 1) to '/tmp/rcflow-leak.csv'",
        "select 1; delete from raw.invoices",
    ],
)
def test_sql_is_read_only(env, statement: str) -> None:
    assert invoke("sync").exit_code == 0
    result = invoke("sql", statement)
    assert result.exit_code == 2
    assert "read-only" in result.output
    assert not Path("/tmp/rcflow-leak.csv").exists()


def test_sql_cannot_read_files(env) -> None:
    assert invoke("sync").exit_code == 0
    result = invoke("sql", "select * from read_csv('/etc/passwd')")
    assert result.exit_code == 2 and "query failed" in result.output


def test_push_dry_run_and_accounting_import(env, tmp_path: Path) -> None:
    assert invoke("sync").exit_code == 0
    invoice_id = json.loads(invoke("sql", "select invoice_id from invoices limit 1", "-f", "json").stdout)[0][
        "invoice_id"
    ]
    events = tmp_path / "events.csv"
    events.write_text(f"invoice_id,state,date,rcf_number\n{invoice_id},ANNOTATED,2025-01-02,RCF-1\n")
    imported = invoke("accounting", "import", str(events))
    assert imported.exit_code == 0 and "1 new events" in imported.stdout
    plan = json.loads(invoke("push", "--dry-run", "--json").stdout)
    assert plan["owed"] == 1 and plan["plan"][0]["state"] == "ANNOTATED"
    pushed = invoke("push", "--json")
    assert pushed.exit_code == 0 and json.loads(pushed.stdout)["pushed"] == 1


def test_bad_accounting_file_is_refused_whole(env, tmp_path: Path) -> None:
    assert invoke("sync").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("invoice_id,state,date\n999,PAID,2025-13-01\n")
    result = invoke("accounting", "import", str(bad))
    assert result.exit_code == 2
    assert "bad.csv:2:" in result.output and "nothing imported" in result.output


def test_missing_secret_is_one_line_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")
    monkeypatch.setenv("RCFLOW_ISSUER", "x")
    monkeypatch.delenv("RCFLOW_SECRET", raising=False)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "w.duckdb"))
    result = invoke("sync")
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "RCFLOW_SECRET is not set" in result.output


def test_unreachable_hub_exit_3_without_traceback(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        RCFLOW_HUB_URL="http://127.0.0.1:9/rcf",
        RCFLOW_ISSUER="x",
        RCFLOW_SECRET="a-secret-that-must-not-appear-anywhere-1234",
        RCFLOW_WAREHOUSE=str(tmp_path / "w.duckdb"),
        RCFLOW_MAX_RETRIES="1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "no answer from the hub" in proc.stderr
    assert "a-secret-that-must-not-appear" not in proc.stderr + proc.stdout


def test_a_tls_failure_is_the_hubs_error_exit_3(env, tmp_path: Path) -> None:
    """https:// to a hub that speaks plain HTTP: the TLS error (errno 1, EPERM's number) was
    reported as the warehouse's folder not being writable, exit 6."""
    sim, values = env
    https = {**values, "RCFLOW_MAX_RETRIES": "1",
             "RCFLOW_HUB_URL": sim.base_url.replace("http://", "https://")}  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "rcflow.cli.main", "sync"], env={**os.environ, **https},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "no answer from the hub" in proc.stderr and "writable" not in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_missing_accounting_file_stops_run_before_anything_runs(env, tmp_path: Path) -> None:
    """Found after the sync before (and exit 1): now the first line, exit 2, no hub contacted."""
    _, values = env
    proc = subprocess.run([sys.executable, "-m", "rcflow.cli.main", "run", "--accounting",
                           str(tmp_path / "missing.csv")], env={**os.environ, **values},
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"rcflow: --accounting {tmp_path / 'missing.csv'}: no such file\n"
    assert not Path(values["RCFLOW_WAREHOUSE"]).exists()  # no sync ran


def test_wrong_secret_exit_3(env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_SECRET", "not-the-right-secret-000000000000000000")
    result = invoke("sync")
    assert result.exit_code == 3 and "1012" in result.output


def test_the_secret_reaches_no_file(env, tmp_path: Path) -> None:
    """After a sync, a push and a status, no byte of the secret is in the warehouse or its data."""
    _, values = env
    assert invoke("sync").exit_code == 0
    assert invoke("push").exit_code == 0
    assert invoke("status").exit_code == 0
    data = Path(values["RCFLOW_WAREHOUSE"]).parent
    secret = SECRET.encode()
    files = [p for p in data.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert secret not in path.read_bytes(), path


def test_version() -> None:
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"rcflow {version('rcflow')}"


def test_every_command_fails_with_the_one_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Whatever the command (the reports and checks included), an error is one `rcflow:` line."""
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "none" / "w.duckdb"))
    monkeypatch.setenv("RCFLOW_SECRET", "a-secret-for-the-simulator-0123456789")
    cases = [
        (["report", "--period", "2025-13", "--out", str(tmp_path / "out")], 2),
        (["check"], 2),
        (["sql", "select 1"], 2),
        (["status"], 2),  # no warehouse: configuration, as for check and sql
        (["push"], 2),
        (["sync"], 2),
        (["accounting", "import", str(tmp_path / "missing.csv")], 2),
        (["hub", "serve", "--today", "tomorrow"], 2),
    ]
    for args, code in cases:
        result = runner.invoke(app, args, catch_exceptions=False)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == code and len(lines) == 1, (args, result.output)
        assert lines[0].startswith("rcflow: ") and "error:" not in lines[0], (args, lines)


def test_every_command_reads_a_period_alike(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """report, run and sign read a period with the one parser: the same line, exit 2, nothing run."""
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")  # nothing listens: never called
    monkeypatch.setenv("RCFLOW_ISSUER", ISSUER)
    monkeypatch.setenv("RCFLOW_SECRET", SECRET)
    lines = set()
    for args in (["report", "--period", "last-week", "--out", str(tmp_path / "out")],
                 ["run", "--period", "last-week"], ["sign", "--period", "last-week"]):  # fmt: skip
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 2, (args, result.output)
        lines.add(result.stderr.strip())
    assert len(lines) == 1
    (line,) = lines
    assert line.startswith("rcflow: period 'last-week' is not a month or a quarter") and "\n" not in line
    assert "current-quarter" in line
    assert not warehouse.parent.exists() and not (tmp_path / "out").exists()


def test_every_invalid_setting_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_CONCURRENCY", "many")
    monkeypatch.setenv("RCFLOW_LOCK_TIMEOUT", "-5")
    result = invoke("status")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith("rcflow: 2 invalid settings:") and "\n" not in line
    assert "RCFLOW_CONCURRENCY" in line and "RCFLOW_LOCK_TIMEOUT" in line
