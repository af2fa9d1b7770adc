"""Quarantines are kept across runs, resolved when the invoice passes, re-opened when it fails again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
from qual_data import NOW, Data, facturae, invoice, query, write

from rcflow.quality import run_checks
from rcflow.quality.findings import AFFECTED_SCHEMA, collect
from rcflow.quality.record import record_run
from rcflow.quality.report import CheckReport
from rcflow.quality.suites import invoices
from rcflow.quality.validate import RuleResult
from rcflow.warehouse import Warehouse


def _rows(path: Path) -> dict[tuple[str, str], tuple]:
    rows = query(
        path,
        "select invoice_id, reason, detected_at, resolved_at from ops.quarantine order by 1, 2",
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_resolve_keep_and_reopen(tmp_path: Path) -> None:
    """Fixed invoices are resolved (kept, dated); still-bad ones keep their first detection."""
    path = tmp_path / "data" / "warehouse.duckdb"
    data = Data()
    data.invoices += [invoice("a"), invoice("b", processing_unit="bad")]
    data.documents += [facturae("a", currency=None), facturae("b")]
    write(path, data)
    with Warehouse(path) as wh:  # another stage's quarantine: not ours to resolve
        wh.con.execute(
            "insert into ops.quarantine values ('b', 'facturae', 'unsigned', null, ?, null)", [NOW]
        )

    first = run_checks(path, now=NOW)
    assert (first.newly_quarantined, first.resolved) == (2, 0)

    later = NOW + timedelta(days=1)
    with Warehouse(path) as wh:
        wh.con.execute("update raw.facturae_documents set currency = 'EUR' where invoice_id = 'a'")
    second = run_checks(path, now=later)
    assert (second.newly_quarantined, second.resolved) == (0, 1)
    rows = _rows(path)
    assert rows[("a", "currency_present")] == (NOW, later)
    assert rows[("b", "dir3_well_formed")] == (NOW, None)
    assert rows[("b", "unsigned")] == (NOW, None)

    again = NOW + timedelta(days=2)
    with Warehouse(path) as wh:
        wh.con.execute("update raw.facturae_documents set currency = null where invoice_id = 'a'")
    third = run_checks(path, now=again)
    assert (third.newly_quarantined, third.resolved) == (1, 0)
    assert _rows(path)[("a", "currency_present")] == (again, None)


def _report(run_id: str) -> CheckReport:
    return CheckReport(run_id=run_id, checked_at=NOW, outcomes=[], quarantined={}, flagged={})


def test_quarantines_of_unevaluated_expectations_stay_open(tmp_path: Path) -> None:
    """When an expectation could not be evaluated, its quarantines are neither lifted nor added."""
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path) as wh:
        wh.con.execute(
            "insert into ops.quarantine values"
            " ('x', 'quality', 'currency_present', null, ?, null),"
            " ('y', 'quality', 'amount_present', null, ?, null)",
            [NOW, NOW],
        )
        record_run(
            wh,
            _report("check-keep"),
            AFFECTED_SCHEMA.empty_table(),
            keep_reasons=["currency_present"],
            started_at=NOW,
        )
    resolved = {r[0]: r[1] for r in query(path, "select invoice_id, resolved_at from ops.quarantine")}
    assert resolved == {"x": None, "y": NOW}


def test_count_disagreement_becomes_an_error_not_a_silent_gap() -> None:
    """If the quarantine query and GX disagree on a count, the expectation errors and blocks."""
    suite = invoices.build()
    rule = suite.rule("currency_present")
    db = duckdb.connect()
    db.register("_rows", pa.table({"invoice_id": ["a", "b"], "currency": [None, "EUR"]}))
    db.execute(f"create table {suite.table} as select * from _rows")
    results = [RuleResult(suite, rule, success=False, unexpected_count=2, error=None)]
    findings = collect(db, results, {})
    (outcome,) = findings.outcomes
    assert outcome.error == "GX counted 2 unexpected rows, the quarantine query found 1"
    assert outcome.blocking and not outcome.success
    assert findings.unresolvable == ["currency_present"]
    assert findings.affected.num_rows == 0
