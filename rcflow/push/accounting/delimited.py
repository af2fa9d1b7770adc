"""Delimited text (CSV, semicolon-separated, tab-separated): the separator sniffed, rows with their lines.

The separator is the one of ``,`` ``;`` tab (or ``|``) that splits the header into the most
columns rcflow knows (then into the most columns). Line ends may be LF, CRLF or CR. A row's line is
the physical line it starts on, as a spreadsheet shows it. The header is the first of the first lines
that names two or more rcflow columns (lines of title or notes may come before it). Rows whose cells
are all empty are skipped (spreadsheets export them). Excel's ``sep=;`` first line names the
separator; Excel hides it, so it is not counted as a line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

SEPARATORS = (",", ";", "\t", "|")
LINES = re.compile(r"\r\n|\r|\n")
_DECIMAL_COMMA = re.compile(r"\d,\d")
_EXCEL_SEP = re.compile(r"(sep=([,;\t|]))(?:\r\n|\r|\n)")
csv.field_size_limit(1 << 30)  # a huge cell is refused by rcflow's length limits, with its column named

Grid = tuple[list[str], list[tuple[int, list[str]]]]  # header, [(line, cells)]


def excel_separator_line(text: str) -> tuple[str, str | None]:
    """Excel's ``sep=;`` first line: the separator it names, the line removed (Excel does not show it)."""
    match = _EXCEL_SEP.match(text)
    if match is None:
        return text, None
    return text[match.end():], match.group(2)


def find_header(
    text: str, separator: str | None, is_known: Callable[[str], bool], search: int
) -> tuple[int, str]:
    """The header's line and the separator: the first of the first ``search`` lines that some
    separator (``separator`` if given) splits into two or more names rcflow knows; else the first
    non-blank line, its separator sniffed."""
    lines = LINES.split(text)[:search]
    for number, line in enumerate(lines, start=1):
        best = separator or sniff(line, is_known)
        if sum(1 for c in _split(line, best) if is_known(c.strip(" \u00a0"))) >= 2:
            return number, best
    number = next((n for n, line in enumerate(lines, start=1) if line.strip()), 1)
    return number, separator or sniff(lines[number - 1] if lines else "", is_known)


def shown(separator: str) -> str:
    return "tab" if separator == "\t" else repr(separator)


def sniff(header_line: str, is_known: Callable[[str], bool]) -> str:
    """The separator that makes the most sense of the header line."""

    def score(separator: str) -> tuple[int, int]:
        cells = _split(header_line, separator)
        return sum(1 for c in cells if is_known(c)), len(cells)

    return max(SEPARATORS, key=score)


def _split(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        return [line]


def read_grid(
    text: str, file: str, separator: str, is_known: Callable[[str], bool], header_line: int = 1
) -> tuple[Grid, list[str]]:
    """Parse ``text`` from the header at ``header_line`` on (the lines before it ignored); returns the
    grid and the problems (file:line: what; the separator hinted)."""
    lines = LINES.split(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    rows: list[tuple[int, list[str]]] = []
    problems: list[str] = []
    header: list[str] | None = None
    last = 0
    while True:
        start = last + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"{file}:{reader.line_num}: not valid CSV: {exc}")
            break
        last = reader.line_num
        if start < header_line or not any(c.strip(" \u00a0") for c in cells):
            continue
        if header is None:
            header = cells
            problems += _header_hint(header, start, lines[start - 1], file, separator, is_known)
            if problems:
                break
            continue
        if len(cells) > len(header) and not any(c.strip() for c in cells[len(header):]):
            cells = cells[: len(header)]  # trailing empty cells some exports add
        if len(cells) != len(header):
            problems.append(_count_problem(file, start, lines[start - 1], cells, header, separator))
            if len(problems) >= 20:
                break
            continue
        rows.append((start, cells))
    return (header or [], rows), problems


def _header_hint(
    header: list[str], line_no: int, line: str, file: str, separator: str, is_known: Callable[[str], bool]
) -> list[str]:
    """A header that another separator reads better is the wrong separator, said so."""
    known = sum(1 for c in header if is_known(c))
    best = sniff(line, is_known)
    if best != separator and sum(1 for c in _split(line, best) if is_known(c)) > known:
        return [
            f"{file}:{line_no}: the header reads as {len(header)} column(s) with the separator "
            f"{shown(separator)}; the separator looks like {shown(best)}"
        ]
    return []


def _count_problem(
    file: str, line_no: int, line: str, cells: list[str], header: list[str], separator: str
) -> str:
    message = f"{file}:{line_no}: {len(cells)} field(s) where the header has {len(header)}"
    for other in SEPARATORS:
        if other != separator and len(_split(line, other)) == len(header):
            return f"{message}; the separator looks like {shown(other)} on this line (the header uses " \
                   f"{shown(separator)}: one separator for the whole file)"
    if len(cells) > len(header) and separator == "," and _DECIMAL_COMMA.search(line):
        return f"{message}: a decimal comma in an unquoted number? Quote it or separate fields with ';'"
    return message
