"""Reading an accounting file into one table of text cells with rcflow's column names.

Formats, told by their first bytes (then by the file name): XLSX (the first sheet, or the
mapping's ``sheet``), Parquet, JSON (an array of objects, or one object per line), and delimited
text for everything else (see :mod:`.delimited`, decoded by :mod:`.text`). Columns are named
through :mod:`.columns`; columns rcflow does not know are ignored. Every cell becomes text here;
what the text means is checked by :mod:`.validate`, with its line and column.

The header is the first of the first :data:`HEADER_SEARCH` rows naming two or more rcflow columns (a
title or notes may sit above it; else the first non-empty row), and lines keep their number in the
file. XLSX number cells are read as Excel means them: an amount within a float artefact of a whole
number of cents is that amount (``43188.22000000001`` is 43188.22; a fraction of a cent is refused),
and a number in the date column is an Excel day number (serial) when it falls in :data:`SERIAL_YEARS`.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import polars as pl

from rcflow.push.accounting import delimited, text
from rcflow.push.accounting.columns import BUILT_IN, CANONICAL, Mapping, MappingError, load_mapping

XLSX_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
LEGACY_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}
# Parquet/JSON types accepted per column (anything else is a refused file, naming the column).
_INTEGER_OK = {"invoice_id", "registry_number", "rcf_number", "reason_code", "amount"}
HEADER_SEARCH = 10  # the header is looked for among the file's first rows (a title may sit above it)
SERIAL_YEARS = (2000, 2099)  # an XLSX number in the date column is an Excel day number for these years
_CENT_TOLERANCE = 1e-6  # a float this close to a whole number of cents is that many cents (Excel's sums),
_CENT_TOLERANCE_RELATIVE = 1e-12  # or this close relative to it (a float's precision falls with its size)


class FileRefused(Exception):
    """The file as a whole cannot be read; ``problems`` say where and why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0])


@dataclass(frozen=True)
class ReadOptions:
    encoding: str | None = None
    separator: str | None = None
    mapping: Mapping = BUILT_IN


@dataclass
class EventTable:
    """The file's rows as text under rcflow's column names, with what is needed to name a cell."""

    file: str
    frame: pl.DataFrame  # line_no (Int32) + one String column per rcflow name present in the file
    labels: dict[str, str] = field(default_factory=dict)  # rcflow name -> "'Data' (C)"
    ignored: list[str] = field(default_factory=list)  # the file's columns rcflow does not know
    format: str = "csv"
    encoding: str | None = None
    separator: str | None = None
    header_line: int = 1  # the header's line in the file (rows of title or notes may come before it)
    problems: list[str] = field(default_factory=list)  # cells refused while reading (file:line: ...)

    def label(self, column: str) -> str:
        return self.labels.get(column, column)


def read_options(encoding: str | None, separator: str | None, mapping: Path | None) -> ReadOptions:
    """Options from the command line: ``--separator tab`` or ``\\t`` mean a tab; raises MappingError."""
    if separator is not None:
        separator = {"tab": "\t", "\\t": "\t"}.get(separator.lower(), separator)
        if separator not in delimited.SEPARATORS:
            raise MappingError(f"--separator must be one of , ; | or tab, not {separator!r}")
    return ReadOptions(encoding, separator, load_mapping(mapping) if mapping else BUILT_IN)


def read_table(path: Path, options: ReadOptions = ReadOptions(), *, data: bytes | None = None) -> EventTable:
    """Read ``path`` (or its bytes ``data``); raises :class:`FileRefused` with every problem found."""
    file = path.name
    data = path.read_bytes() if data is None else data
    suffix = path.suffix.lower()
    if data.startswith(LEGACY_XLS_MAGIC) or suffix == ".xls":
        raise FileRefused([f"{file}: an Excel 97-2003 (.xls) workbook is not read; save it as .xlsx or CSV"])
    if data.startswith(XLSX_MAGIC) or suffix in {".xlsx", ".xlsm"}:
        rows, epoch = _xlsx_rows(data, file, options.mapping.sheet)
        return _from_xlsx(file, rows, options.mapping, epoch)
    if data.startswith(PARQUET_MAGIC) or suffix == ".parquet":
        return _from_frame(file, _read_frame(file, "Parquet", lambda: pl.read_parquet(io.BytesIO(data))),
                           options.mapping, fmt="parquet")
    encoding = options.encoding or options.mapping.encoding
    try:
        decoded = text.decode(data, file, encoding)
    except text.TextRefused as exc:
        raise FileRefused(exc.problems) from None
    if problems := text.scan(decoded.text, file):
        raise FileRefused(problems)
    if suffix in JSON_SUFFIXES:
        frame = _read_frame(file, "JSON", lambda: _json_frame(decoded.text))
        table = _from_frame(file, frame, options.mapping, fmt="json")
        table.encoding = decoded.encoding
        return table
    body, excel_separator = delimited.excel_separator_line(decoded.text)
    is_known = _is_known(options.mapping)
    declared = options.separator or options.mapping.separator or excel_separator
    header_line, separator = delimited.find_header(body, declared, is_known, HEADER_SEARCH)
    (header, rows), problems = delimited.read_grid(body, file, separator, is_known, header_line)
    if problems:
        raise FileRefused(problems)
    table = _from_grid(file, header_line, header, rows, options.mapping, fmt="csv")
    table.encoding, table.separator = decoded.encoding, separator
    return table


def _is_known(mapping: Mapping) -> Callable[[str], bool]:
    return lambda label: mapping.column(label) is not None


def _read_frame(file: str, kind: str, read: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - any reader failure is a refused file
        raise FileRefused([f"{file}: cannot be read as {kind}: {_reason(exc)}"]) from None


def _reason(exc: BaseException) -> str:
    """A library's error in one printable line (it may quote the file's own bytes)."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return text.FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", first)


def _json_frame(body: str) -> pl.DataFrame:
    stripped = body.lstrip()
    if stripped.startswith("["):
        records = json.loads(stripped)
        if not all(isinstance(r, dict) for r in records):
            raise ValueError("expected an array of objects")
        return pl.from_dicts(records, infer_schema_length=None) if records else pl.DataFrame()
    return pl.read_ndjson(io.BytesIO(body.encode("utf-8")), infer_schema_length=None)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _columns(
    file: str, header: list[str], mapping: Mapping, *, letters: bool, line: int = 1
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """rcflow name -> position in the header, the labels to name them, the columns ignored."""
    found: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    problems = []
    for index, raw in enumerate(header):
        label = raw.strip(" \u00a0")
        canonical = mapping.column(label) if label else None
        if canonical is None:
            if label and not text.FORBIDDEN_IN_FIELD.search(label):
                ignored.append(repr(label))
            continue
        shown = f"{label!r} ({_column_letter(index)})" if letters else repr(label)
        if canonical in found:
            problems.append(f"{file}:{line}: columns {labels[canonical]} and {shown} both mean {canonical}")
            continue
        found[canonical], labels[canonical] = index, shown
    for column, label in labels.items():
        if problem := text.field_problem(header[found[column]]):
            problems.append(f"{file}:{line}: column {label}: {problem}")
    if problems:
        raise FileRefused(problems)
    return found, labels, ignored


def _from_grid(file: str, header_line: int, header: list[str], rows: list[tuple[int, list[str]]],
               mapping: Mapping, *, fmt: str) -> EventTable:
    found, labels, ignored = _columns(file, header, mapping, letters=True, line=header_line)
    data: dict[str, list] = {"line_no": [line for line, _ in rows]}
    for column, index in found.items():
        data[column] = [cells[index] if index < len(cells) else None for _, cells in rows]
    schema = {"line_no": pl.Int32, **{c: pl.String for c in found}}
    frame = pl.DataFrame(data, schema=schema)
    return EventTable(file, frame, labels, ignored, fmt, header_line=header_line)


Rows = list[tuple[int, tuple[object, ...]]]  # a sheet's non-empty rows: (row number, values)


def _from_xlsx(file: str, rows: Rows, mapping: Mapping, epoch: object) -> EventTable:
    """A sheet's rows, each cell as text by what its column means (numbers read as Excel means them)."""
    is_known = _is_known(mapping)
    texts = [[_cell_text(v) for v in values] for _, values in rows[:HEADER_SEARCH]]
    at = next((i for i, cells in enumerate(texts) if _names_columns(cells, is_known)), 0)
    header_line, header = (rows[at][0], texts[at]) if rows else (1, [])
    found, labels, _ = _columns(file, header, mapping, letters=True, line=header_line)
    meaning = {index: column for column, index in found.items()}
    problems: list[str] = []
    grid = []
    for line, values in rows[at + 1:]:
        cells = []
        for index, value in enumerate(values):
            column = meaning.get(index)
            cell, problem = _typed_cell_text(value, column, epoch)
            cells.append(cell)
            if problem:
                problems.append(f"{file}:{line}: column {labels[column or '']}: {problem}")
        grid.append((line, cells))
    table = _from_grid(file, header_line, header, grid, mapping, fmt="xlsx")
    table.problems = problems
    return table


def _names_columns(cells: list[str], is_known: Callable[[str], bool]) -> bool:
    """A header row: two or more of its cells name rcflow columns."""
    return sum(1 for c in cells if c.strip(" \u00a0") and is_known(c.strip(" \u00a0"))) >= 2


def _from_frame(file: str, frame: pl.DataFrame, mapping: Mapping, *, fmt: str) -> EventTable:
    """A typed frame (Parquet, JSON): its types checked, then every rcflow column as text."""
    found, labels, ignored = _columns(file, list(frame.columns), mapping, letters=False)
    problems = []
    for column, index in found.items():
        name = frame.columns[index]
        dtype = frame.schema[name]
        if not _type_ok(column, dtype):
            expected = _expected(column)
            problems.append(f"{file}: column {labels[column]} is {dtype}; expected {expected}")
    if problems:
        raise FileRefused(problems)
    out = frame.select(
        pl.int_range(2, frame.height + 2, dtype=pl.Int32).alias("line_no"),
        *(pl.col(frame.columns[i]).cast(pl.String).alias(c) for c, i in found.items()),
    )
    table = EventTable(file, out, labels, ignored, fmt)
    if "amount" in found and frame.schema[frame.columns[found["amount"]]].is_float():
        _float_amounts(table, frame.get_column(frame.columns[found["amount"]]))
    return table


def _float_amounts(table: EventTable, values: pl.Series) -> None:
    """A float amount column read to the cent as in an XLSX (never ``str(float)``: 12.345 would read
    as twelve thousand)."""
    texts: list[str | None] = []
    for line, value in enumerate(values.to_list(), start=2):
        text, problem = (None, None) if value is None else _amount_text(value)
        texts.append(text or None)
        if problem:
            table.problems.append(f"{table.file}:{line}: column {table.label('amount')}: {problem}")
    table.frame = table.frame.with_columns(pl.Series("amount", texts, dtype=pl.String))


def _type_ok(column: str, dtype: pl.DataType) -> bool:
    if dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
        return True
    if column in _INTEGER_OK and dtype.is_integer():
        return True
    if column == "amount" and (dtype.is_float() or isinstance(dtype, pl.Decimal)):
        return True
    return column == "date" and (dtype == pl.Date or isinstance(dtype, pl.Datetime))


def _expected(column: str) -> str:
    if column == "date":
        return "a date or text (YYYY-MM-DD)"
    if column == "amount":
        return "a number or text"
    return "text or an integer" if column in _INTEGER_OK else "text"


def _xlsx_rows(data: bytes, file: str, sheet: str | None) -> tuple[Rows, object]:
    """The sheet's non-empty rows as values, with their row number, and the workbook's date epoch."""
    import openpyxl  # imported here: only XLSX imports pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a refused file
        raise FileRefused([f"{file}: cannot be read as XLSX: {_reason(exc)}"]) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise FileRefused([f"{file}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})"])
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = [
            (line, values)
            for line, values in enumerate(ws.iter_rows(values_only=True), start=1)
            if any(_cell_text(v).strip(" \u00a0") for v in values)
        ]
        return rows, book.epoch
    finally:
        book.close()


def _typed_cell_text(value: object, column: str | None, epoch: object) -> tuple[str, str | None]:
    """A cell of ``column`` as text, or (no text, why) for a float amount that is no whole number of cents."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column == "amount" and isinstance(value, float):
        return _amount_text(value)
    if column == "date" and is_number:
        return _serial_text(value, epoch), None  # type: ignore[arg-type]
    return _cell_text(value), None


def _amount_text(value: float) -> tuple[str, str | None]:
    """A float amount as text with two decimals, a float artefact forgiven; a fraction of a cent refused."""
    cents = value * 100
    if not math.isfinite(cents):
        return "", f"bad amount {value!r} (not a number)"
    whole = round(cents)
    if abs(cents - whole) >= max(_CENT_TOLERANCE, abs(cents) * _CENT_TOLERANCE_RELATIVE):
        return "", f"bad amount {value!r} (a fraction of a cent: an amount has at most two decimals)"
    return str(Decimal(whole).scaleb(-2)), None


def _serial_text(value: float, epoch: object) -> str:
    """An Excel day number as a date (a time of day kept, to be refused); any other number as it is."""
    from openpyxl.utils.datetime import from_excel

    try:
        moment = from_excel(value, epoch=epoch)
    except (OverflowError, ValueError):
        moment = None
    if isinstance(moment, datetime) and SERIAL_YEARS[0] <= moment.year <= SERIAL_YEARS[1]:
        return _cell_text(moment)
    return _cell_text(value)


def _cell_text(value: object) -> str:
    """A cell as text: whole numbers without '.0', dates as YYYY-MM-DD (a time of day kept, to be refused)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


__all__ = ["CANONICAL", "EventTable", "FileRefused", "ReadOptions", "read_options", "read_table"]
