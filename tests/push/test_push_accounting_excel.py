"""What Excel really writes: float sums, day numbers, datetime cells in a CSV, a title above the header."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from accounting_helpers import imported, load, prepare

from rcflow.push.accounting import ImportRefused

CRLF = "\r\n"


@pytest.fixture
def warehouse(seeded: Path) -> Path:
    prepare(seeded)  # invoice 500 is 8,054.53 EUR, the others 100.00
    return seeded


def _refused(warehouse: Path, path: Path) -> list[str]:
    with pytest.raises(ImportRefused) as info:
        load(warehouse, path)
    return info.value.problems


def _excel_csv(path: Path, lines: list[str], *, bom: bool = False) -> Path:
    """Spanish Excel's "CSV (delimitado por comas)": ';', CRLF, Windows-1252 (or UTF-8 with a BOM)."""
    text = CRLF.join(lines) + CRLF
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8") if bom else text.encode("cp1252"))
    return path


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
