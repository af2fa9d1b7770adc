"""Outputs people open in a spreadsheet: CSV injection neutralised without touching numbers, the
Spanish Excel dialect, typed XLSX, and a push plan printed whole however long it is."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.ingest.rows import INVOICE_SCHEMA
from rcflow.reports.export import OUTPUTS, write_csvs, write_workbook
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quarantine import open_quarantines

runner = CliRunner()
HOSTILE = ['=HYPERLINK("http://x","clic")', "=cmd|' /C calc'!A0", "+34 600", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def _invoice(invoice_id: str, supplier_name: str, amount_cents: int) -> dict:
    at = datetime(2025, 1, 10, 10, tzinfo=UTC)
    row = {name: None for name in INVOICE_SCHEMA.names}
    row.update(invoice_id=invoice_id, invoice_number=f"F-{invoice_id}", amount_cents=amount_cents,
               supplier_name=supplier_name, entity_nif="ESP0800000B", registry_number=f"E{invoice_id}",
               registry_at=at, hub_state="DELIVERED", source="pending", raw_json="{}", first_seen_at=at,
               fetched_at=at)  # fmt: skip
    return row


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warehouse.duckdb"
    rows = [_invoice(str(100 + n), name, -1250 if n == 0 else 805453) for n, name in enumerate(HOSTILE)]
    with Warehouse(path) as wh:
        wh.append("raw.invoices", pa.Table.from_pylist(rows, schema=INVOICE_SCHEMA))
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(path))
    return path


def sql_csv(*extra: str, **env: str) -> str:
    result = runner.invoke(
        app,
        ["sql", "select supplier_name, amount, issue_date, registry_date from invoices order by invoice_id",
         "-f", "csv", *extra],
        env=env,
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")  # .stdout turns CRLF into LF


def test_sql_csv_neutralises_formulas_and_keeps_numbers(warehouse: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(sql_csv(), newline="")))
    assert [r["supplier_name"] for r in rows] == ["'" + h for h in HOSTILE]
    assert rows[0]["amount"] == "-12.50"  # a number, even a negative one, is left alone
    assert rows[1]["amount"] == "8054.53"
    assert rows[0]["registry_date"].startswith("2025-01-10")


def test_sql_csv_in_the_spanish_excel_dialect(warehouse: Path) -> None:
    raw = sql_csv("--csv-dialect", "excel-es")
    assert raw.startswith("\ufeff") and "\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert rows[0]["amount"] == "-12,50" and rows[1]["amount"] == "8054,53"
    assert rows[0]["registry_date"] == "10/01/2025 11:00:00"  # Madrid wall time
    assert rows[0]["supplier_name"] == "'" + HOSTILE[0]
    # The same by the setting; a wrong name is one line, exit 2.
    assert sql_csv(RCFLOW_CSV_DIALECT="excel-es") == raw
    bad = runner.invoke(app, ["sql", "select 1", "-f", "csv", "--csv-dialect", "excel-fr"])
    assert bad.exit_code == 2 and "excel-fr" in bad.output and "excel-es" in bad.output


@pytest.fixture
def marts(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A database with every exported mart: text columns hostile, two-decimal columns negative."""
    con = duckdb.connect(str(tmp_path / "reports.duckdb"))
    for output in OUTPUTS:
        columns = ", ".join(
            f"{c} decimal(18, 2)" if c in output.two_decimals else f"{c} varchar" for c in output.columns
        )
        extra = ", period_start date" if "period_start" in output.order_by else ""
        con.execute(f"create table main.{output.mart} ({columns}{extra})")
        values = [-12.5 if c in output.two_decimals else HOSTILE[0] for c in output.columns]
        placeholders = ", ".join("?" for _ in values) + (", date '2025-01-01'" if extra else "")
        con.execute(f"insert into main.{output.mart} values ({placeholders})", values)
    con.execute(
        "create or replace table main.pmp as select * replace (date '2025-10-31' as period) from main.pmp"
    )
    yield con
    con.close()


def test_report_csvs_are_neutralised_in_both_dialects(marts, tmp_path: Path) -> None:
    plain = write_csvs(marts, tmp_path)
    with open(plain["pmp.csv"], newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["entity_nif"] == "'" + HOSTILE[0] and row["pmp"] == "-12.50" and row["period"] == "2025-10-31"
    es_dir = tmp_path / "es"
    es_dir.mkdir()
    from rcflow.tabular import CsvDialect

    spanish = write_csvs(marts, es_dir, CsvDialect.excel_es)
    data = spanish["pmp.csv"].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    with open(spanish["pmp.csv"], newline="", encoding="utf-8-sig") as handle:
        [row] = list(csv.DictReader(handle, delimiter=";"))
    assert row["pmp"] == "-12,50" and row["period"] == "31/10/2025" and row["entity_nif"].startswith("'=")
    assert set(plain) == set(spanish) == {o.file_name for o in OUTPUTS}


def test_report_workbook_has_typed_cells(marts, tmp_path: Path) -> None:
    path = write_workbook(marts, tmp_path / "report.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [o.file_name.removesuffix(".csv") for o in OUTPUTS]
    sheet = book["pmp"]
    header = [c.value for c in sheet[1]]
    assert header == list(OUTPUTS[0].columns) and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    cells = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert cells["pmp"].value == -12.5 and cells["pmp"].data_type == "n"
    assert cells["period"].value == datetime(2025, 10, 31) and cells["period"].is_date
    assert (
        cells["entity_nif"].value == HOSTILE[0] and cells["entity_nif"].data_type == "s"
    )  # text, no formula


def test_xlsx_instants_numbers_booleans_and_text(tmp_path: Path) -> None:
    from rcflow.tabular import Sheet, write_xlsx

    rows = [
        [datetime(2025, 7, 1, 8, 0, tzinfo=UTC), Decimal("1.50"), 3, True, None, "caf\x00e", "=1+1", "-3"]
    ]
    columns = ["at", "d", "i", "b", "n", "t", "formula", "minus"]
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("a/b:c", columns, rows)])
    sheet = openpyxl.load_workbook(path)["a_b_c"]
    cells = list(sheet[2])
    assert [c.value for c in cells] == [
        datetime(2025, 7, 1, 10, 0),
        1.5,
        3,
        True,
        None,
        "caf\ufffde",
        "=1+1",
        "-3",
    ]
    assert cells[0].is_date and cells[1].number_format == "#,##0.00"  # Madrid wall time; two decimals
    assert [c.data_type for c in cells[5:]] == ["s", "s", "s"]  # text, never a formula or a number


def _big_warehouse(path: Path, count: int) -> list[str]:
    ids = [str(1000 + n) for n in range(count)]
    rows = [_invoice(i, "S.L.", 100) for i in ids]
    with Warehouse(path) as wh:
        wh.append("raw.invoices", pa.Table.from_pylist(rows, schema=INVOICE_SCHEMA))
        wh.con.executemany(
            "insert into ops.accounting_events values"
            " (?, 'ANNOTATED', date '2025-01-20', ?, null, null, 'i', 1)",
            [[i, f"RCF-{i}"] for i in ids],
        )
        held = pa.table({"invoice_id": ids[:210], "reason": ["xml_matches_hub"] * 210, "detail": ["d"] * 210})
        with wh.registered("_affected", held):
            open_quarantines(wh.con, "_affected", stage="quality", at=datetime(2025, 2, 1, tzinfo=UTC))
    return ids


def test_dry_run_prints_every_blocked_invoice_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "warehouse.duckdb"
    ids = _big_warehouse(path, 240)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(path))
    result = runner.invoke(
        app, ["push", "--dry-run", "--out", str(tmp_path / "plan.csv")], catch_exceptions=False
    )
    assert result.exit_code == 1  # 210 invoices need attention
    text = result.stdout
    assert "more rows" not in text
    blocked_lines = [line for line in text.splitlines() if line.strip().startswith("blocked")]
    assert len(blocked_lines) == 210
    assert all(f"blocked  {i}  ANNOTATED  quality: xml_matches_hub" in text for i in ids[:210])
    assert all(f"  {i}  1  ANNOTATED  2025-01-20" in text for i in ids[210:])
    assert text.index("held back (210)") < text.index("updates (30)")
    with open(tmp_path / "plan.csv", newline="", encoding="utf-8") as handle:
        plan_rows = list(csv.DictReader(handle))
    assert len(plan_rows) == 240 and plan_rows[0]["action"] == "blocked"
    as_json = json.loads(runner.invoke(app, ["push", "--dry-run", "--json"]).stdout)
    assert len(as_json["blocked"]) == 210 and as_json["owed"] == 30 and len(as_json["plan"]) == 240


@pytest.mark.parametrize("dialect", ["plain", "excel-es"])
def test_duckdb_copy_and_python_rows_write_the_same_bytes(dialect: str, tmp_path: Path) -> None:
    """Reports are written by DuckDB's COPY, `sql` and the plan from Python rows: one format."""
    from rcflow.tabular import CsvDialect, copy_csv, csv_text

    query = (
        "select * from (values"
        " ('=a\rb', 1::bigint, -12.50::decimal(18, 2), 0.1::double, date '2025-01-31',"
        "  timestamptz '2025-07-01 08:00:00.5+00', true, '', timestamp '2025-01-01 00:00:00'),"
        " ('c;d\"', 2, 8054.53, 1e20, null, null, false, null, null)"
        ') v("=s", i, d, g, dt, ts, b, e, nts)'
    )
    chosen = CsvDialect(dialect)
    with duckdb.connect() as con:
        written = copy_csv(con, query, tmp_path / "x.csv", chosen).read_bytes().decode("utf-8")
        result = con.execute(query)
        columns = [d[0] for d in result.description]
        expected = csv_text(columns, result.fetchall(), chosen)
    assert written == expected
    assert written.count("'=") == 2  # the header and the cell
