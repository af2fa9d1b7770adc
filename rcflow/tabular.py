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

import errno
import io
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
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


_ISO_INSTANT = "%Y-%m-%dT%H:%M:%S.%f"  # plain instants: ISO 8601, UTC ("+00:00"), microseconds
_ES_DATE = "%d/%m/%Y"
_ES_INSTANT = "%d/%m/%Y %H:%M:%S"  # Madrid wall time


def csv_cell(value: Any, dialect: CsvDialect = CsvDialect.plain) -> str | None:
    """One value as CSV text (None: null): typed values formatted for the dialect, text neutralised."""
    spanish = dialect is CsvDialect.excel_es
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value).replace(".", ",") if spanish else str(value)
    if isinstance(value, datetime):
        if spanish:
            return _local(value).strftime(_ES_INSTANT)
        if value.tzinfo is None:
            return value.strftime(_ISO_INSTANT)
        return value.astimezone(UTC).strftime(_ISO_INSTANT) + "+00:00"
    if isinstance(value, date):
        return value.strftime(_ES_DATE) if spanish else value.isoformat()
    return neutralise(str(value))


def _separator(dialect: CsvDialect) -> tuple[str, str]:
    return (";", "\r\n") if dialect is CsvDialect.excel_es else (",", "\n")


def _csv_line(cells: Sequence[str | None], dialect: CsvDialect) -> str:
    """RFC 4180 quoting as DuckDB writes it: a cell with the separator, a quote, CR or LF is quoted,
    an empty text is ``""`` and a null is empty (``csv.writer`` leaves a lone CR unquoted when the
    line end is LF, which splits the row for every reader)."""
    separator, end = _separator(dialect)

    def quote(cell: str | None) -> str:
        if cell is None:
            return ""
        if not cell or separator in cell or any(ch in cell for ch in '"\r\n'):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    return separator.join(quote(c) for c in cells) + end


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


def _check_target(path: Path) -> None:
    """A file can be written at ``path``: it is no folder, and its folder exists."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file", str(path))
    if not path.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(path.parent))


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write, renamed over ``path`` once written. On failure it is
    removed, and an OS error names ``path`` (the file asked for), never the temporary file."""
    _check_target(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        tmp.replace(path)
    except BaseException as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise


def write_csv(
    path: Path, columns: Sequence[str], rows: Iterable[Sequence[Any]], dialect: CsvDialect = CsvDialect.plain
) -> Path:
    """Write a CSV file atomically (temporary file, then rename)."""
    with _atomic(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        write_csv_stream(handle, columns, rows, dialect)
    return path


_NUMERIC = frozenset({"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
                      "uinteger", "ubigint", "uhugeint", "decimal", "float", "double"})  # fmt: skip


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_cell(column: str, type_id: str, dialect: CsvDialect) -> str:
    """SQL for one column written as ``csv_cell`` writes it (``copy_csv``'s twin of it)."""
    x = '"' + column.replace('"', '""') + '"'
    spanish = dialect is CsvDialect.excel_es
    if type_id == "boolean" or (type_id in _NUMERIC and not spanish):
        return x
    if type_id in _NUMERIC:
        return f"replace(cast({x} as varchar), '.', ',')"
    if type_id == "date":
        return f"strftime({x}, {_sql_literal(_ES_DATE)})" if spanish else x
    if type_id == "timestamp with time zone":
        if spanish:
            return f"strftime(timezone({_sql_literal(clock.MADRID.key)}, {x}), {_sql_literal(_ES_INSTANT)})"
        return f"strftime(timezone('UTC', {x}), {_sql_literal(_ISO_INSTANT)}) || '+00:00'"
    if type_id.startswith("timestamp"):
        return f"strftime(cast({x} as timestamp), {_sql_literal(_ES_INSTANT if spanish else _ISO_INSTANT)})"
    starts = ", ".join(_sql_literal(c) for c in INJECTION_STARTS)
    text = f"cast({x} as varchar)"
    return f"case when left({text}, 1) in ({starts}) then {_sql_literal(chr(39))} || {text} else {text} end"


def copy_csv(con: Any, query: str, path: Path, dialect: CsvDialect = CsvDialect.plain) -> Path:
    """Write a DuckDB query's rows exactly as ``write_csv`` would, at DuckDB's speed (``COPY``), atomically.

    Needs a connection allowed to write files (``rcflow sql``'s reader is not: it uses ``write_csv``).
    """
    relation = con.sql(query)
    aliases = ['"' + neutralise(c).replace('"', '""') + '"' for c in relation.columns]
    selects = ", ".join(
        f"{_sql_cell(c, t.id, dialect)} as {alias}"
        for c, t, alias in zip(relation.columns, relation.types, aliases, strict=True)
    )
    separator, end = _separator(dialect)
    new_line = "\\r\\n" if end == "\r\n" else "\\n"
    with _atomic(path) as tmp:
        body = tmp.with_name(f"{tmp.name}.body") if dialect is CsvDialect.excel_es else tmp
        try:
            con.execute(
                f"copy (select {selects} from ({query})) to {_sql_literal(str(body))}"
                f" (header, delimiter '{separator}', new_line '{new_line}')"
            )
            if body != tmp:
                with open(tmp, "wb") as out, open(body, "rb") as rows:
                    out.write("\ufeff".encode())
                    shutil.copyfileobj(rows, out, 1 << 20)
        finally:
            if body != tmp:
                with suppress(OSError):
                    body.unlink(missing_ok=True)
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

    _check_target(path)  # before a write-only workbook starts its own temporary files
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
    with _atomic(path) as tmp:
        workbook.save(tmp)
    return path


_DATE_FORMAT = "dd/mm/yyyy"
_DATETIME_FORMAT = "dd/mm/yyyy hh:mm:ss"
_MONEY_FORMAT = "#,##0.00"  # two-decimal figures (money, days): shown as the CSV shows them


def _typed_cell(ws: Any, value: Any) -> Any:
    """A plain value where openpyxl types it right (fast), a styled cell where it needs help."""
    from openpyxl.cell import WriteOnlyCell

    converted = _xlsx_value(value)
    if isinstance(converted, str):
        if not converted.startswith("="):
            return converted
        cell = WriteOnlyCell(ws, value=converted)
        cell.data_type = "s"  # text stays text: "=HYPERLINK(…)" is never a formula
    elif isinstance(converted, Decimal) and converted.as_tuple().exponent == -2:
        cell = WriteOnlyCell(ws, value=converted)
        cell.number_format = _MONEY_FORMAT
    elif isinstance(converted, datetime):
        cell = WriteOnlyCell(ws, value=converted)
        cell.number_format = _DATETIME_FORMAT
    elif isinstance(converted, date):
        cell = WriteOnlyCell(ws, value=converted)
        cell.number_format = _DATE_FORMAT
    else:
        return converted
    return cell
