"""What Excel really writes: float sums, day numbers, datetime cells in a CSV, a title above the header."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from accounting_helpers import imported, load, prepare
from openpyxl.utils.datetime import to_excel

from rcflow.push.accounting import ImportRefused
from rcflow.warehouse import Warehouse

CRLF = "\r\n"


@pytest.fixture
def warehouse(seeded: Path) -> Path:
    prepare(seeded)  # invoice 500 is 8,054.53 EUR, the others 100.00
    return seeded


def _xlsx(path: Path, rows: list[list[object]], formats: dict[str, str] | None = None) -> Path:
    """A sheet as Excel saves it: ``formats`` maps a column letter to its cells' number format."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for letter, number_format in (formats or {}).items():
        for cell in sheet[letter][1:]:
            cell.number_format = number_format
    book.save(path)
    return path


def _refused(warehouse: Path, path: Path) -> list[str]:
    with pytest.raises(ImportRefused) as info:
        load(warehouse, path)
    return info.value.problems


def _excel_csv(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    """Spanish Excel's "CSV (delimitado por comas)": ';', CRLF, Windows-1252 (or UTF-8 with a BOM)."""
    text = CRLF.join(lines) + CRLF
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8") if bom else text.encode("cp1252"))
    return path


# --- amounts: Excel stores a sum's binary float ----------------------------------------------


def test_xlsx_amounts_with_float_artefacts_are_their_cents(warehouse: Path, tmp_path: Path) -> None:
    with Warehouse(warehouse) as wh:
        wh.con.execute("update raw.invoices set amount_cents = 4318822 where invoice_id = '100'")
        wh.con.execute("update raw.invoices set amount_cents = 30 where invoice_id = '300'")
    sums = [4027.26 + 4027.27, 0.1 + 0.2, 43188.22000000001]  # floats as a SUM() leaves them
    assert sums[:2] == [math.nextafter(8054.53, math.inf), 0.30000000000000004]
    path = _xlsx(tmp_path / "sums.xlsx", [
        ["Id factura", "Estado", "Fecha pago", "Importe"],
        [500, "Pagada", "20/02/2025", sums[0]],
        [300, "Pagada", "20/02/2025", sums[1]],
        [100, "Reconocida", "03/02/2025", sums[2]],
        [500, "Reconocida", "03/02/2025", 8054.53],
    ], {"D": "#,##0.00"})
    result = load(warehouse, path)  # each the hub's amount to the cent, else refused
    assert (result.rows, result.new_events) == (4, 4)


def test_xlsx_amount_with_a_fraction_of_a_cent_is_refused(warehouse: Path, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "cents.xlsx", [
        ["Id factura", "Estado", "Fecha pago", "Importe"],
        [100, "Pagada", "20/02/2025", 12.345],  # not 12,345 EUR, nor 12.35: refused
        [300, "Pagada", "20/02/2025", 100.004],
    ])
    assert _refused(warehouse, path) == [
        "cents.xlsx:2: column 'Importe' (D): bad amount 12.345 (a fraction of a cent: an amount has at most "
        "two decimals)",
        "cents.xlsx:3: column 'Importe' (D): bad amount 100.004 (a fraction of a cent: an amount has at most "
        "two decimals)",
    ]


# --- dates: a number in the date column is Excel's day number ----------------------------------


def test_xlsx_day_numbers_in_the_date_column_are_dates(warehouse: Path, tmp_path: Path) -> None:
    serial = int(to_excel(datetime(2025, 2, 20)))
    assert serial == 45708
    general = _xlsx(tmp_path / "general.xlsx", [
        ["Id factura", "Estado", "Fecha pago", "Importe"],
        [300, "Pagada", serial, 100],  # formatted General: openpyxl reads the int
        [100, "Reconocida", float(int(to_excel(datetime(2025, 2, 1)))), 100.0],
    ])
    load(warehouse, general)
    events, _ = imported(warehouse)
    assert [(e[0], e[1], e[2], e[-1]) for e in events] == [
        ("100", "RECOGNISED", date(2025, 2, 1), 3), ("300", "PAID", date(2025, 2, 20), 2),
    ]


def test_xlsx_day_number_with_a_date_format(warehouse: Path, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "dated.xlsx", [
        ["Id factura", "Estado", "Fecha pago"], [300, "Pagada", 45708],
    ], {"C": "dd/mm/yyyy"})
    load(warehouse, path)
    assert imported(warehouse)[0][0][:3] == ("300", "PAID", date(2025, 2, 20))


def test_xlsx_day_numbers_that_are_no_date_are_refused(warehouse: Path, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "odd.xlsx", [
        ["Id factura", "Estado", "Fecha pago"],
        [300, "Pagada", 45708.5],  # noon: a date and a time
        [100, "Reconocida", 45],  # 1900: no plausible day number
    ])
    assert _refused(warehouse, path) == [
        "odd.xlsx:2: column 'Fecha pago' (C): bad date '2025-02-20 12:00:00' (a date and a time (expected a "
        "date))",
        "odd.xlsx:3: column 'Fecha pago' (C): bad date '45' (a number, not a date (an Excel day number? "
        "Format the column as a date))",
    ]


def test_a_number_in_another_column_is_not_a_date(warehouse: Path, tmp_path: Path) -> None:
    rows: list[list[object]] = [["Id factura", "Estado", "Fecha pago"], [45708, "Pagada", "20/02/2025"]]
    path = _xlsx(tmp_path / "ids.xlsx", rows)
    assert _refused(warehouse, path) == [
        "ids.xlsx:2: column 'Id factura' (A): unknown invoice 45708 (not in the warehouse: run `rcflow sync`/"
        "`backfill`)"
    ]


# --- CSV of a datetime cell ---------------------------------------------------------------------


def test_csv_midnight_datetimes_as_excel_writes_them(warehouse: Path, tmp_path: Path) -> None:
    path = _excel_csv(tmp_path / "dt.csv", [
        "Id factura;Estado;Fecha pago;Importe",
        "300;Pagada;20/02/2025 0:00;100,00",
        "100;Reconocida;01/02/2025 00:00:00;100,00",
    ])
    load(warehouse, path)
    events, _ = imported(warehouse)
    assert [(e[0], e[2], e[-1]) for e in events] == [
        ("100", date(2025, 2, 1), 3), ("300", date(2025, 2, 20), 2),
    ]


def test_csv_datetime_with_a_time_of_day_is_refused_with_its_line(warehouse: Path, tmp_path: Path) -> None:
    path = _excel_csv(tmp_path / "dt.csv", [
        "Id factura;Estado;Fecha pago", "300;Pagada;20/02/2025 0:00", "100;Reconocida;01/02/2025 10:30",
    ], bom=True)
    assert _refused(warehouse, path) == [
        "dt.csv:3: column 'Fecha pago' (C): bad date '01/02/2025 10:30' (a date and a time (expected a date))"
    ]


def test_csv_day_number_says_what_it_looks_like(warehouse: Path, tmp_path: Path) -> None:
    path = _excel_csv(tmp_path / "n.csv", ["Id factura;Estado;Fecha pago", "300;Pagada;45708"])
    assert _refused(warehouse, path) == [
        "n.csv:2: column 'Fecha pago' (C): bad date '45708' (a number, not a date (an Excel day number? "
        "Format the column as a date))"
    ]


# --- a title above the header ---------------------------------------------------------------------


def test_xlsx_title_rows_above_the_header(warehouse: Path, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Exportació comptable 2025 — Ajuntament"])
    sheet.merge_cells("A1:D1")
    sheet.append(["Generat el 01/06/2025"])
    sheet.append([])
    sheet.append(["Id factura", "Estat", "Data", "Import"])
    sheet.append([300, "Pagada", datetime(2025, 2, 20), 100.0])
    sheet.append([100, "Reconeguda", datetime(2025, 2, 1), 100.0])
    book.save(tmp_path / "title.xlsx")
    result = load(warehouse, tmp_path / "title.xlsx")
    assert result.rows == 2
    events, _ = imported(warehouse)
    assert [(e[0], e[-1]) for e in events] == [("100", 6), ("300", 5)]  # lines as the sheet numbers them


def test_xlsx_title_rows_keep_the_sheets_line_numbers_in_errors(warehouse: Path, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "title.xlsx", [
        ["Exportació comptable 2025"], [], ["Id factura", "Estado", "Fecha pago"],
        [300, "Pagada", "32/02/2025"],
    ])
    assert _refused(warehouse, path) == [
        "title.xlsx:4: column 'Fecha pago' (C): bad date '32/02/2025' (no such day)"
    ]


def test_csv_title_rows_above_the_header(warehouse: Path, tmp_path: Path) -> None:
    lines = [
        "Exportació comptable 2025;;;",
        ";;;",
        "Id factura;Estado;Fecha pago;Importe",
        "300;Pagada;20/02/2025;100,00",
        "100;Reconocida;1/2/2025;100,00",
    ]
    result = load(warehouse, _excel_csv(tmp_path / "title.csv", lines))
    assert (result.rows, result.separator) == (2, ";")
    events, _ = imported(warehouse)
    assert [(e[0], e[-1]) for e in events] == [("100", 5), ("300", 4)]


def test_csv_title_line_without_separators_and_an_error_below(warehouse: Path, tmp_path: Path) -> None:
    lines = [
        "Exportació comptable 2025", "", "Id factura;Estado;Fecha pago", "300;Pagada;20/02/2025",
        "100;Pagada",
    ]
    assert _refused(warehouse, _excel_csv(tmp_path / "title.csv", lines)) == [
        "title.csv:5: 2 field(s) where the header has 3"
    ]


def test_no_header_in_the_first_rows_names_the_first_row(warehouse: Path, tmp_path: Path) -> None:
    rows: list[list[object]] = [["Exportació comptable 2025"], ["Factura", "Situació"], [300, "Pagada"]]
    path = _xlsx(tmp_path / "none.xlsx", rows)
    assert _refused(warehouse, path)[0].startswith("none.xlsx:1: no invoice column")


def test_a_header_problem_names_the_headers_line(warehouse: Path, tmp_path: Path) -> None:
    lines = ["Pagos 2025;;;", "Id factura;Estado;Fecha;Fecha pago", "300;Pagada;20/02/2025;20/02/2025"]
    assert _refused(warehouse, _excel_csv(tmp_path / "twice.csv", lines)) == [
        "twice.csv:2: columns 'Fecha' (C) and 'Fecha pago' (D) both mean date"
    ]


# --- Parquet and JSON: float amounts read to the cent, as in an XLSX ------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".json"])
def test_float_amounts_in_typed_files(warehouse: Path, tmp_path: Path, suffix: str) -> None:
    import polars as pl

    frame = pl.DataFrame({
        "invoice_id": ["500", "300"], "state": ["PAID", "PAID"], "date": ["2025-02-20", "2025-02-20"],
        "amount": [4027.26 + 4027.27, 100.0],
    })
    path = tmp_path / f"e{suffix}"
    frame.write_parquet(path) if suffix == ".parquet" else frame.write_json(path)
    assert load(warehouse, path).new_events == 2
    refused = frame.with_columns(pl.Series("amount", [8054.53, 12.345]))
    path = tmp_path / f"r{suffix}"
    refused.write_parquet(path) if suffix == ".parquet" else refused.write_json(path)
    assert _refused(warehouse, path) == [
        f"r{suffix}:3: column 'amount': bad amount 12.345 (a fraction of a cent: an amount has at most two "
        "decimals)"
    ]
