"""The user's legal interest rates file: half-years the project's table does not have yet.

The legal rate (Ley 3/2004 art. 7) is published by a BOE resolution each half-year; rcflow
ships the table of compliance-rules.md §5.1 and refuses to guess the rest (§5.3). A user adds a
half-year, or corrects one, as a line of a CSV file, without touching code::

    half_year,legal_rate,source
    2026-H2,10.15,BOE-A-2026-12345

``#`` starts a comment line. A bad line stops the report with ``file:line: what is wrong``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

COLUMNS = ("half_year", "legal_rate", "source")
_HALF_YEAR = re.compile(r"^(\d{4})-H([12])$")


class RatesFileError(ValueError):
    """The rates file cannot be read or has a bad line (the message names file and line)."""


@dataclass(frozen=True)
class DeclaredRate:
    """One half-year's legal rate as the user declared it."""

    half_year: str
    start: date
    end: date
    legal_rate: Decimal
    source: str
    source_file: str

    def to_var(self) -> dict[str, str]:
        """The row as the dbt var ``extra_interest_rates`` takes it."""
        return {
            "half_year_start": self.start.isoformat(),
            "half_year_end": self.end.isoformat(),
            "legal_rate": str(self.legal_rate),
            "source": self.source,
            "source_file": self.source_file,
        }


def _half_year(text: str) -> tuple[date, date]:
    match = _HALF_YEAR.match(text)
    if not match or not 2000 <= int(match[1]) <= 2100:
        raise ValueError(f"half_year {text!r} is not YYYY-H1 or YYYY-H2")
    year = int(match[1])
    return (date(year, 1, 1), date(year, 6, 30)) if match[2] == "1" else (
        date(year, 7, 1), date(year, 12, 31))


def _rate(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"legal_rate {text!r} is not a number (percent, e.g. 10.15)") from None
    if not value.is_finite() or not Decimal(0) < value < Decimal(100) or value.as_tuple().exponent < -2:
        raise ValueError(f"legal_rate {text!r} must be a percent between 0 and 100 with 2 decimals")
    return value


def load_rates_file(path: Path) -> list[DeclaredRate]:
    """Read and validate ``path``; raises :class:`RatesFileError` on the first bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RatesFileError(f"{path}: cannot read the rates file ({exc.__class__.__name__})") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    if not numbered:
        return []
    header_no, header = numbered[0]
    names = [c.strip().lower() for c in next(csv.reader([header]))]
    if tuple(names) != COLUMNS:
        raise RatesFileError(f"{path}:{header_no}: the header must be {','.join(COLUMNS)}")
    rates: list[DeclaredRate] = []
    seen: dict[str, int] = {}
    for line_no, line in numbered[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        try:
            if len(cells) != len(COLUMNS):
                raise ValueError(f"expected {len(COLUMNS)} values ({','.join(COLUMNS)}), got {len(cells)}")
            half_year, rate_text, source = cells
            start, end = _half_year(half_year.upper())
            rate = _rate(rate_text)
            if not source:
                raise ValueError("source is empty (give the BOE id or where the rate comes from)")
            if half_year.upper() in seen:
                raise ValueError(f"{half_year} is already on line {seen[half_year.upper()]}")
        except ValueError as exc:
            raise RatesFileError(f"{path}:{line_no}: {exc}") from None
        seen[half_year.upper()] = line_no
        rates.append(DeclaredRate(half_year.upper(), start, end, rate, source,
                                  f"{path.name} line {line_no}"))  # fmt: skip
    return rates
