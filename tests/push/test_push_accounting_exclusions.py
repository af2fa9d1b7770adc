"""Scope exclusions from the accounting file (ops.scope_exclusions), and "today" on Madrid's calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from accounting_helpers import count_events, imported

from rcflow import clock
from rcflow.push.accounting import ImportRefused, import_events
from rcflow.warehouse import Warehouse

TODAY = date(2025, 6, 1)


def run(warehouse: Path, tmp_path: Path, content: str, name: str = "x.csv", today: date | None = TODAY):  # noqa: ANN201
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with Warehouse(warehouse) as wh:
        return import_events(wh, path, today=today)


def test_exclusion_only_rows_and_rows_with_both(seeded: Path, tmp_path: Path) -> None:
    result = run(
        seeded, tmp_path,
        "invoice_id,state,date,exclusió,nota exclusió\n"
        "100,,,Compensació,netted against the 2025 water bill\n"
        "200,RECOGNISED,2025-02-01,FFPP,\n"
        "200,PAID,2025-02-10,FFPP,\n"  # the same exclusion repeated on each of the invoice's rows folds
        "300,,,set_off,\n"
        "400,,,altres,\n",
    )
    assert (result.new_events, result.exclusions) == (2, 4)
    assert imported(seeded)[1] == [
        ("100", "set_off", "netted against the 2025 water bill", 2),
        ("200", "supplier_fund", None, 3),
        ("300", "set_off", None, 5),
        ("400", "other", None, 6),
    ]
    with Warehouse(seeded, publish=False) as wh:  # the view the reports read
        assert wh.fetch("select count(*) from main.scope_exclusions")[0][0] == 4


def test_a_later_file_replaces_or_withdraws_an_exclusion(seeded: Path, tmp_path: Path) -> None:
    run(seeded, tmp_path, "invoice_id,exclusion\n100,embargo\n200,embargo\n", "a.csv")
    later = "invoice_id,exclusion,exclusion_note\n100,public_body,a council\n200,none,\n"
    run(seeded, tmp_path, later, "b.csv")
    assert imported(seeded)[1] == [("100", "public_body", "a council", 2)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("invoice_id,exclusion\n100,holiday\n",
         ["x.csv:2: column 'exclusion' (B): unknown exclusion 'holiday' (expected one of public_body, "
          "embargo, set_off, supplier_fund, other, none, or a name from the mapping file)"]),
        ("invoice_id,exclusion\n100,embargo\n100,set_off\n",
         ["x.csv:2: contradictory exclusions for invoice 100 (lines 2, 3)"]),
        ("invoice_id,exclusion,exclusion_note\n100,,why\n",
         ["x.csv:2: column 'exclusion_note' (C): an exclusion note without an exclusion",
          "x.csv:2: nothing to import: no state and no exclusion"]),
        ("invoice_id,state,date,exclusion\n100,,2025-02-01,embargo\n",
         ["x.csv:2: column 'date' (C): a date without a state"]),
        ("invoice_id,exclusion\n999,embargo\n",
         ["x.csv:2: column 'invoice_id' (A): unknown invoice 999 (not in the warehouse: run "
          "`rcflow sync`/`backfill`)"]),
    ],
)
def test_bad_exclusions_refuse_the_file(
    seeded: Path, tmp_path: Path, content: str, expected: list[str]
) -> None:
    with pytest.raises(ImportRefused) as info:
        run(seeded, tmp_path, content)
    assert info.value.problems == expected
    assert imported(seeded) == ([], [])


def test_a_refused_file_leaves_the_earlier_exclusions_alone(seeded: Path, tmp_path: Path) -> None:
    run(seeded, tmp_path, "invoice_id,exclusion\n100,embargo\n", "a.csv")
    with pytest.raises(ImportRefused):
        run(seeded, tmp_path, "invoice_id,state,date,exclusion\n100,,,none\n200,SENT,2025-02-01,\n", "b.csv")
    assert [e[:2] for e in imported(seeded)[1]] == [("100", "embargo")]


# "Today" is the Madrid date: at 23:30 UTC on 31 December it is already 1 January in Madrid, and
# at 00:30 Madrid on 1 July (22:30 UTC on 30 June) it is 1 July.
@pytest.mark.parametrize(
    ("instant", "madrid_today"),
    [("2026-12-31T23:30:00Z", date(2027, 1, 1)), ("2026-07-01T00:30:00+02:00", date(2026, 7, 1))],
)
def test_today_is_the_madrid_date(seeded: Path, tmp_path: Path, instant: str, madrid_today: date) -> None:
    with clock.pinned(instant):
        result = run(seeded, tmp_path, f"invoice_id,state,date\n100,RECOGNISED,{madrid_today}\n", today=None)
        assert result.new_events == 1
        tomorrow = madrid_today.replace(day=madrid_today.day + 1)
        with pytest.raises(ImportRefused) as info:
            run(seeded, tmp_path, f"invoice_id,state,date\n500,RECOGNISED,{tomorrow:%d/%m/%Y}\n", "y.csv",
                today=None)
    assert info.value.problems == [
        f"y.csv:2: column 'date' (C): date {tomorrow:%d/%m/%Y} is in the future "
        f"(today is {madrid_today}, Madrid)"
    ]
    assert count_events(seeded) == 1
