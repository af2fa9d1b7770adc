"""Tabular outputs people open in a spreadsheet: CSV (two dialects) and XLSX, written safely.

* **CSV injection** (OWASP): a *text* cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading single quote, so a spreadsheet shows it as text instead of running
  it as a formula. Numbers, dates and booleans are typed values, never text: ``-12.5`` in a numeric
  column stays the number -12.5.
* **Dialects** (``RCFLOW_CSV_DIALECT`` or a ``--csv-dialect`` option):

  - ``plain`` (default, for machines): ``,`` separator, ``.`` decimals, ISO dates
    (``2025-10-31``), UTF-8 without BOM, ``\\n`` line ends: what DuckDB, polars and pandas read;
  - ``excel-es`` (a Spanish-locale Excel opens it by double-click): ``;`` separator, decimal comma
    without thousands separator (``8054,53``), dates ``dd/mm/yyyy`` and instants
    ``dd/mm/yyyy hh:mm:ss`` in Madrid time, UTF-8 *with* BOM (without it Excel reads the bytes as
    Windows-1252 and mangles accents), CRLF line ends. Excel still converts text that looks like a
    number or a date (an invoice number ``000123`` loses its zeros): the XLSX export keeps text as
    text.

* **XLSX**: one sheet per table, typed cells (numbers, dates, booleans), text stored as text (never
  as a formula), a bold, frozen header row.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from rcflow import clock

DIALECT_ENV = "RCFLOW_CSV_DIALECT"
INJECTION_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what an XLSX cannot hold


class CsvDialect(StrEnum):
    plain = "plain"
    excel_es = "excel-es"


class DialectError(ValueError):
    """An unknown CSV dialect name (the message is the one line to show)."""


def csv_dialect(name: str | None = None) -> CsvDialect:
    """The dialect named (an option), else ``RCFLOW_CSV_DIALECT``, else ``plain``."""
    value = (name or os.environ.get(DIALECT_ENV) or CsvDialect.plain.value).strip().lower()
    try:
        return CsvDialect(value)
    except ValueError:
        choices = ", ".join(d.value for d in CsvDialect)
        source = "--csv-dialect" if name else DIALECT_ENV
        raise DialectError(f"{source}={value!r} is not a CSV dialect; use one of: {choices}") from None


def neutralise(text: str) -> str:
    """OWASP's CSV-injection rule for a text cell: prefix a single quote if it could be a formula."""
    return "'" + text if text.startswith(INJECTION_STARTS) else text


def _local(instant: datetime) -> datetime:
    """Madrid wall time of an aware instant (naive values are left as they are)."""
    return instant.astimezone(clock.MADRID) if instant.tzinfo else instant


def csv_cell(value: Any, dialect: CsvDialect = CsvDialect.plain) -> str:
    """One value as CSV text: typed values formatted for the dialect, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return text.replace(".", ",") if dialect is CsvDialect.excel_es else text
    if isinstance(value, datetime):
        if dialect is CsvDialect.excel_es:
            return _local(value).strftime("%d/%m/%Y %H:%M:%S")
        return value.isoformat()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y") if dialect is CsvDialect.excel_es else value.isoformat()
    return neutralise(str(value))


def _csv_line(cells: Sequence[str], dialect: CsvDialect) -> str:
    """RFC 4180 quoting: a cell with the separator, a quote, CR or LF is quoted (``csv.writer``
    leaves a lone CR unquoted when the line end is LF, which splits the row for every reader)."""
    separator, end = (";", "\r\n") if dialect is CsvDialect.excel_es else (",", "\n")
    quoted = [
        '"' + c.replace('"', '""') + '"' if separator in c or any(ch in c for ch in '"\r\n') else c
        for c in cells
    ]
    return separator.join(quoted) + end


def write_csv_stream(
    handle: IO[str], columns: Sequence[str], rows: Iterable[Sequence[Any]], dialect: CsvDialect
) -> int:
    """Write a header and ``rows`` to an open text stream (BOM first for ``excel-es``); returns rows."""
    if dialect is CsvDialect.excel_es:
        handle.write("\ufeff")
    handle.write(_csv_line([neutralise(c) for c in columns], dialect))
    count = 0
    for row in rows:
        handle.write(_csv_line([csv_cell(v, dialect) for v in row], dialect))
        count += 1
    return count


def write_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], dialect: CsvDialect = CsvDialect.plain
) -> Path:
    """Write a CSV file atomically (temporary file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        write_csv_stream(handle, columns, rows, dialect)
    tmp.replace(path)
    return path


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]], dialect: CsvDialect) -> str:
    buffer = io.StringIO(newline="")
    write_csv_stream(buffer, columns, rows, dialect)
    return buffer.getvalue()


# --- XLSX ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook."""

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def sheet_title(name: str) -> str:
    """A valid sheet title: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return _local(value).replace(tzinfo=None)  # Excel has no time zones: Madrid wall time
    if isinstance(value, bool | int | float | Decimal | date) or value is None:
        return value
    return _ILLEGAL_XML.sub("\ufffd", str(value))


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write one workbook (atomically): a sheet per table, typed cells, bold frozen header."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet_title(sheet.name))
        ws.freeze_panes = "A2"
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=_xlsx_value(column))
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([_typed_cell(ws, value) for value in row])
    tmp = path.with_name(f".{path.name}.tmp")
    workbook.save(tmp)
    tmp.replace(path)
    return path


_DATE_FORMAT = "dd/mm/yyyy"
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
_MONEY_FORMAT = "#,##0.00"  # two-decimal figures (money, days): shown as the CSV shows them


def _typed_cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    converted = _xlsx_value(value)
    cell = WriteOnlyCell(ws, value=converted)
    if isinstance(converted, str):
        cell.data_type = "s"  # text stays text: "=HYPERLINK(…)" is never a formula
    elif isinstance(converted, Decimal) and converted.as_tuple().exponent == -2:
        cell.number_format = _MONEY_FORMAT
    elif isinstance(converted, datetime):
        cell.number_format = _DATETIME_FORMAT
    elif isinstance(converted, date):
        cell.number_format = _DATE_FORMAT
    return cell
