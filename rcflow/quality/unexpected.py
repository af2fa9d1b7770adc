"""The SQL for *every* row an expectation rejects, so quarantine covers all of them.

GX reports a count and a sample; its ``unexpected_index_list`` stops at
``partial_unexpected_count`` rows and its ``unexpected_index_query`` drops the row condition
(GX 1.24). So for each expectation class the suites use, this module writes the same predicate
GX evaluates, over the same batch table. :func:`unexpected_rows` returns it as one ``select``;
the runner compares its row count with GX's ``unexpected_count`` and refuses to record results
when they differ, so the two can never drift apart silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.row_conditions import (
    AndCondition,
    ComparisonCondition,
    Condition,
    NullityCondition,
    Operator,
)

Query = tuple[str, list[Any]]


class UnsupportedExpectation(NotImplementedError):
    """An expectation class or row condition this module has no SQL for."""


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _value(value: Any, parameters: Mapping[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _condition(condition: Condition | None) -> Query:
    if condition is None:
        return "true", []
    if isinstance(condition, AndCondition):
        parts = [_condition(c) for c in condition.conditions]
        return " and ".join(f"({sql})" for sql, _ in parts), [a for _, args in parts for a in args]
    if isinstance(condition, NullityCondition):
        test = "is null" if condition.is_null else "is not null"
        return f"{_quote(condition.column.name)} {test}", []
    if isinstance(condition, ComparisonCondition):
        # Conditions keep enum values as plain strings (pydantic use_enum_values).
        column, value = _quote(condition.column.name), condition.parameter
        op = Operator(condition.operator)
        if op in (Operator.IN, Operator.NOT_IN):
            keyword = "in" if op is Operator.IN else "not in"
            return f"{column} {keyword} ({', '.join('?' for _ in value)})", list(value)
        sql_op = {Operator.EQUAL: "=", Operator.NOT_EQUAL: "<>"}.get(op, op.value)
        return f"{column} {sql_op} ?", [value]
    raise UnsupportedExpectation(f"row condition {condition!r}")


def _predicate(e: Expectation, parameters: Mapping[str, Any]) -> Query:
    """The per-row test GX applies, for the map expectations that have one."""
    if isinstance(e, gxe.ExpectColumnValuesToNotBeNull):
        return f"{_quote(e.column)} is null", []
    if isinstance(e, gxe.ExpectColumnValuesToBeNull):
        return f"{_quote(e.column)} is not null", []
    if isinstance(e, gxe.ExpectColumnValuesToBeInSet):
        values = list(_value(e.value_set, parameters))
        column = _quote(e.column)
        return f"{column} is not null and {column} not in ({', '.join('?' for _ in values)})", values
    if isinstance(e, gxe.ExpectColumnValuesToBeBetween):
        column, tests, args = _quote(e.column), [], []
        if e.min_value is not None:
            tests.append(f"{column} {'<=' if e.strict_min else '<'} ?")
            args.append(_value(e.min_value, parameters))
        if e.max_value is not None:
            tests.append(f"{column} {'>=' if e.strict_max else '>'} ?")
            args.append(_value(e.max_value, parameters))
        return f"{column} is not null and ({' or '.join(tests) or 'false'})", args
    if isinstance(e, gxe.ExpectColumnPairValuesAToBeGreaterThanB):
        if e.ignore_row_if != "either_value_is_missing":
            raise UnsupportedExpectation("pair expectations need ignore_row_if='either_value_is_missing'")
        a, b = _quote(e.column_A), _quote(e.column_B)
        return f"{a} is not null and {b} is not null and not ({a} {'>=' if e.or_equal else '>'} {b})", []
    raise UnsupportedExpectation(type(e).__name__)


def _duplicates(table: str, columns: list[str], where: str, args: list[Any]) -> Query:
    keys = ", ".join(_quote(c) for c in columns)
    present = " or ".join(f"{_quote(c)} is not null" for c in columns)
    sql = (
        f"select * exclude (_rcflow_copies) from ("
        f"select *, count(*) over (partition by {keys}) as _rcflow_copies"
        f" from {table} where ({where}) and ({present})"
        f") where _rcflow_copies > 1"
    )
    return sql, args


def unexpected_rows(table: str, expectation: Expectation, parameters: Mapping[str, Any]) -> Query:
    """``select * from table`` restricted to the rows ``expectation`` counts as unexpected."""
    where, args = _condition(expectation.row_condition)
    if isinstance(expectation, gxe.ExpectColumnValuesToBeUnique):
        return _duplicates(table, [expectation.column], where, args)
    if isinstance(expectation, gxe.ExpectCompoundColumnsToBeUnique):
        return _duplicates(table, list(expectation.column_list), where, args)
    predicate, predicate_args = _predicate(expectation, parameters)
    return f"select * from {table} where ({where}) and ({predicate})", [*args, *predicate_args]
