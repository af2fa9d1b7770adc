"""Accounting files are validated whole: clear messages with file and line; all or nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from rcflow.push.accounting import ImportRefused, import_events, read_options
from rcflow.warehouse import Warehouse

TODAY = date(2025, 6, 1)
HEADER = "invoice_id,state,date,rcf_number,reason_code,reason\n"


def write(tmp_path: Path, body: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def count_events(path: Path) -> int:
    with Warehouse(path, publish=False) as wh:
        return wh.con.execute("select count(*) from ops.accounting_events").fetchone()[0]


def test_good_file_loads_and_reimport_is_a_noop(seeded: Path, tmp_path: Path) -> None:
    f = write(
        tmp_path, "100,ANNOTATED,2025-01-12,RCF-1,,\n100,recognised,2025-02-01,,,\n500,PAID,2025-03-01,,,\n"
    )
    with Warehouse(seeded) as wh:
        first = import_events(wh, f, today=TODAY)
        again = import_events(wh, f, today=TODAY)
        imports = wh.con.execute("select file_name, row_count from ops.accounting_imports").fetchall()
    assert first.new_events == 3 and not first.already_imported
    assert again.already_imported and again.new_events == 0
    assert imports == [("events.csv", 3)]
    assert count_events(seeded) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("100,SENT,2025-01-12,,,\n", "events.csv:3: column 'state' (B): unknown state 'SENT'"),
        ("100,RECOGNISED,12/13/2025,,,\n", "events.csv:3: column 'date' (C): bad date '12/13/2025' (no such"),
        ("100,RECOGNISED,2025-01-12 10:30,,,\n", "bad date '2025-01-12 10:30' (a date and a time"),
        ("100,RECOGNISED,12/01/25,,,\n", "bad date '12/01/25' (expected YYYY-MM-DD or DD/MM/YYYY)"),
        ("100,RECOGNISED,2025-02-30,,,\n", "bad date '2025-02-30'"),
        ("100,RECOGNISED,2030-01-01,,,\n", "is in the future"),
        ("100,ANNOTATED,2025-01-12,,,\n", "events.csv:3: column 'rcf_number' (D): ANNOTATED without"),
        ("100,REJECTED,2025-01-12,,E1,\n", "events.csv:3: column 'reason' (F): REJECTED without reason"),
        ("100,RECOGNISED,2025-01-12,,,why\n", "only REJECTED takes a reason"),
        ("999,RECOGNISED,2025-01-12,,,\n", "events.csv:3: column 'invoice_id' (A): unknown invoice 999"),
        ("100,,2025-01-12,,,\n", "events.csv:3: nothing to import: no state and no exclusion"),
        ("100,RECOGNISED,,,,\n", "events.csv:3: column 'date' (C): missing date"),
        (
            "100,RECOGNISED,2025-02-01,,,\n100,RECOGNISED,2025-02-02,,,\n",
            "contradictory rows for invoice 100 RECOGNISED (lines 3, 4)",
        ),
    ],
)
def test_bad_rows_refuse_the_whole_file(seeded: Path, tmp_path: Path, body: str, expected: str) -> None:
    good = "500,RECOGNISED,2025-02-01,,,\n"
    f = write(tmp_path, good + body)
    with Warehouse(seeded) as wh, pytest.raises(ImportRefused) as info:
        import_events(wh, f, today=TODAY)
    assert any(expected in p for p in info.value.problems), info.value.problems
    assert count_events(seeded) == 0  # the good row was not loaded either


def test_identical_duplicate_rows_are_folded(seeded: Path, tmp_path: Path) -> None:
    f = write(tmp_path, "100,RECOGNISED,2025-02-01,,,\n100,RECOGNISED,2025-02-01,,,\n")
    with Warehouse(seeded) as wh:
        assert import_events(wh, f, today=TODAY).new_events == 1


def test_registry_number_instead_of_id(seeded: Path, tmp_path: Path) -> None:
    path = tmp_path / "by_registry.csv"
    path.write_text("registry_number,state,date\nE200,RECOGNISED,2025-02-01\n", encoding="utf-8")
    with Warehouse(seeded) as wh:
        import_events(wh, path, today=TODAY)
        rows = wh.con.execute("select invoice_id, state from ops.accounting_events").fetchall()
    assert rows == [("200", "RECOGNISED")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("registry_number,state,date\nE999,RECOGNISED,2025-02-01\n",
         "by_registry.csv:2: column 'registry_number' (A): unknown registry number E999"),
        ("invoice_id,registry_number,state,date\n100,E200,RECOGNISED,2025-02-01\n",
         "by_registry.csv:2: column 'registry_number' (B): registry number E200 is invoice 200, not 100"),
    ],
)
def test_registry_number_that_does_not_fit(seeded: Path, tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "by_registry.csv"
    path.write_text(content, encoding="utf-8")
    with Warehouse(seeded) as wh, pytest.raises(ImportRefused) as info:
        import_events(wh, path, today=TODAY)
    assert info.value.problems == [expected]


def test_parquet_and_json(seeded: Path, tmp_path: Path) -> None:
    frame = pl.DataFrame({"invoice_id": ["100"], "state": ["RECOGNISED"], "date": ["2025-02-01"]})
    frame.write_parquet(tmp_path / "e.parquet")
    frame.with_columns(pl.lit("RECEIVED").alias("state")).write_json(tmp_path / "e.json")
    with Warehouse(seeded) as wh:
        assert import_events(wh, tmp_path / "e.parquet", today=TODAY).new_events == 1
        assert import_events(wh, tmp_path / "e.json", today=TODAY).new_events == 1


def test_contradiction_with_an_earlier_file(seeded: Path, tmp_path: Path) -> None:
    first = write(tmp_path, "100,RECOGNISED,2025-02-01,,,\n", "a.csv")
    second = write(tmp_path, "100,RECOGNISED,2025-02-05,,,\n", "b.csv")
    with Warehouse(seeded) as wh:
        import_events(wh, first, today=TODAY)
        with pytest.raises(ImportRefused, match="contradicts the event imported from a.csv"):
            import_events(wh, second, today=TODAY)


def test_unreadable_file(seeded: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet")
    with Warehouse(seeded) as wh, pytest.raises(ImportRefused, match="cannot be read as Parquet"):
        import_events(wh, path, today=TODAY)


def test_a_header_with_braces_is_named_as_written(seeded: Path, tmp_path: Path) -> None:
    path = tmp_path / "braces.csv"
    mapping = tmp_path / "m.yml"
    mapping.write_text("columns: {date: 'Data {dd/mm}'}\n", encoding="utf-8")
    path.write_text("invoice_id,state,Data {dd/mm}\n100,RECOGNISED,2025-13-01\n", encoding="utf-8")
    with Warehouse(seeded) as wh, pytest.raises(ImportRefused) as info:
        import_events(wh, path, today=TODAY, options=read_options(None, None, mapping))
    assert info.value.problems == [
        "braces.csv:2: column 'Data {dd/mm}' (C): bad date '2025-13-01' (no such day)"
    ]
