"""The quarantine SQL selects the rows GX counts as unexpected (GX semantics: nulls ignored)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe
import pyarrow as pa
import pytest
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.row_conditions import Column

from rcflow.quality.suites import Suite, rule
from rcflow.quality.unexpected import UnsupportedExpectation, unexpected_rows
from rcflow.quality.validate import gx_session


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    rows = pa.table(
        {
            "id": ["a", "b", "c", "d", "e"],
            "kind": ["X", "Y", None, "X", "Z"],
            "n": [1, 5, None, 10, 3],
            "d1": [date(2025, 1, 1), date(2025, 1, 5), None, date(2025, 1, 3), date(2025, 1, 4)],
            "d2": [date(2025, 1, 2), date(2025, 1, 5), date(2025, 1, 1), None, date(2025, 1, 1)],
        }
    )
    con.register("_rows", rows)
    con.execute("create table t as select * from _rows")
    return con


def ids(db: duckdb.DuckDBPyConnection, expectation: object, **parameters: object) -> list[str]:
    sql, args = unexpected_rows("t", expectation, parameters)  # type: ignore[arg-type]
    return sorted(r[0] for r in db.execute(f"select id from ({sql})", args).fetchall())


def cases() -> list[tuple[Expectation, list[str]]]:
    """Fresh expectations each time (GX binds an expectation to the suite it is added to)."""
    return [
        (gxe.ExpectColumnValuesToNotBeNull(column="kind"), ["c"]),
        (gxe.ExpectColumnValuesToBeNull(column="kind"), ["a", "b", "d", "e"]),
        (gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["X", "Y"]), ["e"]),
        (gxe.ExpectColumnValuesToBeBetween(column="n", min_value=2, max_value=5), ["a", "d"]),
        (gxe.ExpectColumnValuesToBeBetween(column="n", max_value=5, strict_max=True), ["b", "d"]),
        (gxe.ExpectColumnValuesToBeUnique(column="kind"), ["a", "d"]),
        (gxe.ExpectCompoundColumnsToBeUnique(column_list=["kind", "n"]), []),
        (
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="d2", column_B="d1", or_equal=True, ignore_row_if="either_value_is_missing"
            ),
            ["e"],
        ),
        (
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="d2", column_B="d1", ignore_row_if="either_value_is_missing"
            ),
            ["b", "e"],
        ),
        (gxe.ExpectColumnValuesToNotBeNull(column="n", row_condition=Column("kind") == "X"), []),
        (
            gxe.ExpectColumnValuesToBeInSet(column="n", value_set=[1], row_condition=Column("kind") == "X"),
            ["d"],
        ),
        (
            gxe.ExpectColumnValuesToBeInSet(
                column="n", value_set=[1], row_condition=Column("kind").is_in(["X", "Z"])
            ),
            ["d", "e"],
        ),
        (
            gxe.ExpectColumnValuesToBeInSet(
                column="n", value_set=[1], row_condition=Column("kind").is_not_null() & (Column("n") > 4)
            ),
            ["b", "d"],
        ),
    ]


@pytest.mark.parametrize(("expectation", "expected"), cases(), ids=lambda c: getattr(c, "type", ""))
def test_selects_the_rows_gx_rejects(
    db: duckdb.DuckDBPyConnection, expectation: object, expected: list[str]
) -> None:
    assert ids(db, expectation) == expected


def test_parameters_are_resolved(db: duckdb.DuckDBPyConnection) -> None:
    """``$PARAMETER`` values come from the run's expectation parameters."""
    e = gxe.ExpectColumnValuesToBeBetween(column="d1", max_value={"$PARAMETER": "today"})
    assert ids(db, e, today=date(2025, 1, 3)) == ["b", "e"]


def test_compound_duplicates_are_all_selected(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("insert into t values ('f', 'X', 1, null, null)")
    e = gxe.ExpectCompoundColumnsToBeUnique(column_list=["kind", "n"])
    assert ids(db, e) == ["a", "f"]


def test_unsupported_expectations_are_refused() -> None:
    """An expectation without a known predicate fails loudly instead of quarantining nothing."""
    with pytest.raises(UnsupportedExpectation):
        unexpected_rows("t", gxe.ExpectColumnMeanToBeBetween(column="n", max_value=1), {})
    pair = gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="d2", column_B="d1")
    with pytest.raises(UnsupportedExpectation):
        unexpected_rows("t", pair, {})


def test_gx_counts_the_same_rows(db: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """GX itself, over the same table, counts exactly the rows the SQL selects."""
    expected = {f"case_{i}": len(ids) for i, (_, ids) in enumerate(cases())}
    rules = tuple(rule(f"case_{i}", e, "''") for i, (e, _) in enumerate(cases()))
    suite = Suite("cases_suite", "0", "t", "", rules)
    with gx_session(
        db, parameters={}, run_name="cases", run_time=datetime.now(UTC), docs_dir=tmp_path
    ) as session:
        results = session.validate(suite)
    assert len(results) == len(expected)
    for result in results:
        assert result.error is None
        assert (result.unexpected_count or 0) == expected[result.rule.name], result.rule
