"""From GX's verdicts to every affected invoice: counts, samples and quarantine rows, in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from rcflow.quality.report import ExpectationOutcome
from rcflow.quality.unexpected import unexpected_rows
from rcflow.quality.validate import RuleResult

SAMPLE_SIZE = 20
DETAIL_LIMIT = 500

AFFECTED_SCHEMA = pa.schema(
    [
        pa.field("invoice_id", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("detail", pa.string()),
    ]
)


@dataclass
class Findings:
    outcomes: list[ExpectationOutcome]
    affected: pa.Table  # invoice_id, reason, detail: one row per quarantined (invoice, reason)
    flagged: dict[str, int]
    unresolvable: list[str]  # reasons whose quarantines must stay as they are (not evaluated)

    @classmethod
    def empty(cls) -> Findings:
        return cls([], AFFECTED_SCHEMA.empty_table(), {}, [])

    def merge(self, other: Findings) -> Findings:
        return Findings(
            self.outcomes + other.outcomes,
            pa.concat_tables([self.affected, other.affected]),
            {**self.flagged, **other.flagged},
            self.unresolvable + other.unresolvable,
        )


def _per_invoice(
    db: duckdb.DuckDBPyConnection, result: RuleResult, parameters: Mapping[str, Any]
) -> pa.Table:
    rows_sql, args = unexpected_rows(result.suite.table, result.rule.expectation, parameters)
    sql = f"""
        select
            invoice_id,
            ?::varchar as reason,
            left(string_agg(distinct ({result.rule.detail}), '; '), {DETAIL_LIMIT}) as detail,
            count(*) as row_count
        from ({rows_sql}) b
        group by invoice_id
        order by invoice_id nulls first
    """
    return db.sql(sql, params=[result.rule.name, *args]).to_arrow_table()


def _outcome(result: RuleResult, *, samples: list[str], error: str | None) -> ExpectationOutcome:
    return ExpectationOutcome(
        suite=result.suite.name,
        suite_version=result.suite.version,
        expectation=result.rule.name,
        column=result.rule.column,
        severity=result.rule.severity.value,
        # A flag never fails: its unexpected_count says how many invoices were flagged.
        success=(result.success or not result.rule.quarantines) and error is None,
        # GX reports no count for an empty batch; nothing there is unexpected.
        unexpected_count=(result.unexpected_count or 0) if error is None else None,
        sample_invoice_ids=samples,
        error=error,
    )


def collect(
    db: duckdb.DuckDBPyConnection, results: Sequence[RuleResult], parameters: Mapping[str, Any]
) -> Findings:
    """Turn GX's per-rule results into outcomes and the full list of affected invoices."""
    outcomes: list[ExpectationOutcome] = []
    affected: list[pa.Table] = []
    flagged: dict[str, int] = {}
    unresolvable: list[str] = []
    for result in results:
        if result.error is not None:
            outcomes.append(_outcome(result, samples=[], error=result.error))
            unresolvable.append(result.rule.name)
            continue
        table = _per_invoice(db, result, parameters)
        found = pc.sum(table.column("row_count")).as_py() or 0
        expected = result.unexpected_count or 0
        if found != expected:
            error = f"GX counted {expected} unexpected rows, the quarantine query found {found}"
            outcomes.append(_outcome(result, samples=[], error=error))
            unresolvable.append(result.rule.name)
            continue
        known = table.filter(pc.is_valid(table.column("invoice_id")))
        samples = known.column("invoice_id").slice(0, SAMPLE_SIZE).to_pylist()
        outcomes.append(_outcome(result, samples=samples, error=None))
        if known.num_rows == 0:
            continue
        if result.rule.quarantines:
            affected.append(known.select(AFFECTED_SCHEMA.names).cast(AFFECTED_SCHEMA))
        else:
            flagged[result.rule.name] = known.num_rows
    rows = pa.concat_tables(affected) if affected else AFFECTED_SCHEMA.empty_table()
    return Findings(outcomes, rows, flagged, unresolvable)
