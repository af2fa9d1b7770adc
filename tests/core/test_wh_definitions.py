"""Shared SQL definitions: cents become euros in one place, for views and reports alike."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb

from rcflow.warehouse.db import migrate

ROOT = Path(__file__).resolve().parents[2]
CONVERSION = re.compile(r"decimal\(18,\s*0\)\)\s*(/\s*100|\*\s*0\.01)", re.IGNORECASE)


def test_cents_to_euros_is_written_once() -> None:
    places = [
        path.relative_to(ROOT).as_posix()
        for folder in ("rcflow", "reports/models", "reports/macros")
        for path in (ROOT / folder).rglob("*.sql")
        if CONVERSION.search(path.read_text(encoding="utf-8"))
    ]
    assert places == ["rcflow/warehouse/migrations/definitions.sql"]


def test_every_migrated_warehouse_carries_the_macro(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con)
    con.execute("drop macro main.cents_to_euros")  # a warehouse migrated before the macro existed
    migrate(con)
    got = con.execute("select main.cents_to_euros(-12345), typeof(main.cents_to_euros(1))").fetchone()
    assert got == (Decimal("-123.45"), "DECIMAL(18,2)")
    con.close()


def test_the_views_convert_with_it_in_an_attached_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.close()
    reader = duckdb.connect()
    reader.execute(f"attach '{path}' as wh (read_only)")
    assert reader.execute("select wh.main.cents_to_euros(199)").fetchone() == (Decimal("1.99"),)
    reader.execute("select amount from wh.main.invoices").fetchall()  # binds through the attached macro
