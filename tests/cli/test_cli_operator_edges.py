"""What an operator meets at the edges of the command line: output piped into a file or ``head``,
a hub that failed in ``--json``, options the README promises, settings and ids files mistyped."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from rcflow.cli import report_cmds
from rcflow.cli.main import app
from rcflow.ingest.rows import INVOICE_SCHEMA
from rcflow.tabular import CsvDialect
from rcflow.warehouse import Warehouse

LONG_RUN_ID = "sync-efact-20261207T221319Z-27fb28-and-a-tail-long-enough-to-be-cut-at-eighty-columns"
runner = CliRunner()
LONG_NAME = "Subministraments i Serveis Municipals de Catalunya, Societat Limitada Unipersonal"


def _warehouse(path: Path, count: int = 3) -> Path:
    at = datetime(2025, 1, 10, 10, tzinfo=UTC)
    rows = []
    for n in range(count):
        row = {name: None for name in INVOICE_SCHEMA.names}
        row.update(invoice_id=str(159700000 + n), invoice_number=f"F-{n}", amount_cents=805453,
                   supplier_name=LONG_NAME, entity_nif="ESP0800000B", registry_number=f"E{n}",
                   registry_at=at, hub_state="DELIVERED", source="pending", raw_json="{}",
                   first_seen_at=at, fetched_at=at)  # fmt: skip
        rows.append(row)
    with Warehouse(path) as wh:
        wh.append("raw.invoices", pa.Table.from_pylist(rows, schema=INVOICE_SCHEMA))
        wh.con.execute("insert into ops.runs values (?, 'sync', ?, ?, 'ok', ?)",
                       [LONG_RUN_ID, at, at, '{"source": "efact"}'])  # fmt: skip
    return path


def rcflow(*args: str, env: dict[str, str], shell_tail: str = "") -> subprocess.CompletedProcess[str]:
    """The command in its own process, stdout a pipe (or piped on into ``shell_tail``)."""
    command = [sys.executable, "-m", "rcflow.cli.main", *args]
    if shell_tail:
        quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in command)
        return subprocess.run(["bash", "-c", f"set -o pipefail; {quoted} {shell_tail}"], env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def piped(tmp_path: Path) -> dict[str, str]:
    """The environment of a cron job: a warehouse, stdout not a terminal, COLUMNS unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_") and k != "COLUMNS"}
    env["RCFLOW_WAREHOUSE"] = str(_warehouse(tmp_path / "warehouse.duckdb", count=3000))
    return env


def test_sql_table_into_a_file_is_not_cut_at_80_columns(piped: dict[str, str]) -> None:
    proc = rcflow("sql", "select invoice_id, supplier_name, registry_number from invoices limit 2",
                  "--live", env=piped)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "159700000" in proc.stdout and LONG_NAME in proc.stdout
    assert "invoice_id" in proc.stdout and "registry_number" in proc.stdout  # headers whole
    assert "…" not in proc.stdout


def test_status_into_a_pipe_shows_whole_run_ids(piped: dict[str, str]) -> None:
    proc = rcflow("status", "--live", env=piped)
    assert proc.returncode == 0, proc.stderr
    assert LONG_RUN_ID in proc.stdout and "…" not in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "select * from invoices", "--live", "--format", "csv"),
        ("sql", "select * from invoices", "--live", "--format", "json"),
        ("sql", "select * from invoices", "--live"),
        ("status", "--live"),
    ],
)
def test_a_reader_that_leaves_early_ends_the_command_quietly(
    piped: dict[str, str], args: tuple[str, ...]
) -> None:
    proc = rcflow(*args, env=piped, shell_tail="| head -1")
    assert proc.returncode == 0, proc.stderr  # pipefail: rcflow's own exit code
    assert proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 1


def test_report_takes_the_csv_dialect_the_readme_promises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[CsvDialect] = []

    def build(*args: object, csv_dialect: CsvDialect, **kwargs: object) -> None:
        seen.append(csv_dialect)  # what the build writes its CSVs in
        raise report_cmds.ReportBuildError("dbt build failed: stop here")

    monkeypatch.setattr(report_cmds, "build_reports", build)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("RCFLOW_CSV_DIALECT", "plain")
    base = ["report", "--period", "2025-10", "--out", str(tmp_path / "out")]
    assert runner.invoke(app, [*base, "--csv-dialect", "excel-es"]).exit_code == 1
    assert runner.invoke(app, base).exit_code == 1
    assert seen == [CsvDialect.excel_es, CsvDialect.plain]  # the option, then the setting
    bad = runner.invoke(app, [*base, "--csv-dialect", "excel-fr"])
    assert bad.exit_code == 2 and "--csv-dialect='excel-fr'" in bad.stderr and len(seen) == 2
    assert "--csv-dialect" in runner.invoke(app, ["report", "--help"]).stdout


@pytest.mark.parametrize(
    ("url", "shown"),
    [("notaurl", "'notaurl'"), ("https://me:hunter2-pw@api.efirma.es", "'https://***@api.efirma.es'")],
)
def test_a_bad_efirma_url_is_configuration_exit_2(
    url: str, shown: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"URL": url, "PRIVATE_KEY": "k", "DEVELOPER_CIF": "B00000000",
                        "CLIENT_CIF": "P0800000B"}.items():  # fmt: skip
        monkeypatch.setenv(f"RCFLOW_EFIRMA_{name}", value)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    result = runner.invoke(app, ["sign", "collect"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("rcflow: invalid setting: RCFLOW_EFIRMA_URL ") and shown in result.stderr
    assert "hunter2" not in result.output


@pytest.fixture
def backfill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``rcflow backfill`` with the hub calls replaced: the ids it would send, in order."""
    from rcflow.cli import ingest_cmds
    from rcflow.ingest.run import HubRuns

    sent: list[list[str]] = []

    async def fake(config: object, ids: list[str], **kwargs: object) -> HubRuns:
        sent.append(list(ids))
        return HubRuns("backfill")

    monkeypatch.setattr(ingest_cmds, "backfill_hubs", fake)
    env = {"RCFLOW_HUB_URL": "http://127.0.0.1:9/rcf", "RCFLOW_ISSUER": "i", "RCFLOW_SECRET": "s",
           "RCFLOW_WAREHOUSE": str(tmp_path / "w.duckdb")}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return sent


def test_backfill_reads_an_ids_file_saved_by_notepad(backfill: list[list[str]], tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_bytes("\ufeff159700001\r\n# a comment\r\n159700002\r\n\r\n".encode())
    result = runner.invoke(app, ["backfill", "--ids", "ids.txt", "--ids", "face:202600000001"])
    assert result.exit_code == 0, result.output
    assert backfill == [["159700001", "159700002", "face:202600000001"]]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("159700001\n1597 00002\n", "rcflow: ids.txt:2: '1597 00002' is not a hub id (whitespace inside;"),
        ("159700001\n../159700002\n", "rcflow: ids.txt:2: '../159700002' is not a hub id (a path separator;"),
        ("159700001\n\ufeff159700002\n", "rcflow: ids.txt:2: '\\ufeff159700002' is not a hub id (control or"),
        ("159700001\n1597\x0000002\n", "rcflow: ids.txt:2: '1597\\x0000002' is not a hub id (control or"),
        ("# only a comment\n\n", "rcflow: ids.txt: no hub ids in it"),
        ("", "rcflow: ids.txt: no hub ids in it"),
    ],
)
def test_backfill_refuses_an_ids_file_with_a_line_no_hub_id_can_be(
    content: str, line: str, backfill: list[list[str]], tmp_path: Path
) -> None:
    (tmp_path / "ids.txt").write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["backfill", "--ids", "ids.txt"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(line) and len(result.stderr.splitlines()) == 1
    assert result.stdout == "" and backfill == []  # no hub contacted


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("/nonexistent/path", "rcflow: --ids /nonexistent/path: no such file or folder"),
        ("idz.txt", "rcflow: --ids idz.txt: no such file or folder"),
        ("1597 0001", "rcflow: --ids '1597 0001': '1597 0001' is not a hub id (whitespace inside;"),
    ],
)
def test_backfill_never_sends_a_mistyped_path_as_an_id(
    value: str, line: str, backfill: list[list[str]]
) -> None:
    result = runner.invoke(app, ["backfill", "--ids", value])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(line) and backfill == []


def test_backfill_of_an_empty_archive_is_one_line_exit_2(backfill: list[list[str]], tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()
    result = runner.invoke(app, ["backfill", "--ids", "archive"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("rcflow: no hub ids found in the arguments")


@pytest.mark.parametrize(
    "args",
    [("status",), ("status", "--live"), ("sql", "select 1"), ("sql", "select 1", "--live"),
     ("store", "verify"), ("quarantine", "list"), ("cancellations", "list"),
     ("cancellations", "credit-assignments")],  # fmt: skip
)
def test_no_warehouse_is_configuration_exit_2(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "nothing" / "warehouse.duckdb"
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(path))
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"rcflow: no warehouse at {path}: run `rcflow sync` first\n"
    assert not path.parent.exists()  # nothing created


def test_counts_are_worded_in_the_singular_for_one(piped: dict[str, str]) -> None:
    from rcflow.cli.store_cmds import _count

    counted = [_count(1, "invoice"), _count(2, "invoice"), _count(0, "blob")]
    assert counted == ["1 invoice", "2 invoices", "0 blobs"]
    proc = rcflow("sql", "select 1 as n", "--live", env=piped)
    assert "1 row" in proc.stdout and "1 rows" not in proc.stdout


def test_report_out_an_existing_file_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    monkeypatch.setattr(report_cmds, "build_reports", lambda *a, **k: built.append(a))
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    out = tmp_path / "report.csv"
    out.write_text("x\n")
    result = runner.invoke(app, ["report", "--period", "2025-10", "--out", str(out)])
    assert result.exit_code == 2 and built == []
    assert result.stderr == f"rcflow: --out {out} is a file: give a folder (made if missing)\n"
