"""Reconciliation: what is owed, in lifecycle order; what cannot be pushed is a discrepancy."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa

from rcflow.push.plan import plan_from_warehouse
from rcflow.warehouse import Warehouse


def events(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "invoice_id": r[0],
                "state": r[1],
                "event_date": date.fromisoformat(r[2]),
                "rcf_number": r[3] if len(r) > 3 else None,
                "reason_code": None,
                "reason": r[4] if len(r) > 4 else None,
            }
            for r in rows
        ]
    )


def plan_for(path: Path, frame: pl.DataFrame, quarantine: dict | None = None):
    """Store the events (and quarantine findings, invoice → 'stage: reason') and plan from the view."""
    events = frame.with_columns(import_id=pl.lit("test"), line_no=pl.int_range(pl.len(), dtype=pl.Int32))
    with Warehouse(path, publish=False) as wh:
        with wh.transaction() as con:
            con.execute("delete from ops.accounting_events")
            con.execute("delete from ops.quarantine")
            wh.append("ops.accounting_events", events.to_arrow())
            for invoice_id, label in (quarantine or {}).items():
                stage, reason = label.split(": ", 1)
                row = [invoice_id, stage, reason]
                con.execute("insert into ops.quarantine values (?, ?, ?, null, now(), null)", row)
        return plan_from_warehouse(wh)


def test_owed_in_lifecycle_order_whatever_the_file_order(seeded: Path) -> None:
    plan = plan_for(
        seeded,
        events(
            ("100", "PAID", "2025-03-01"),
            ("100", "RECOGNISED", "2025-02-01"),
            ("100", "ANNOTATED", "2025-01-12", "RCF-100"),
            ("100", "ACCEPTED", "2025-01-20"),
        ),
    )
    assert [u.state.value for u in plan.owed["100"]] == ["ANNOTATED", "ACCEPTED", "RECOGNISED", "PAID"]
    assert plan.owed["100"][-1].push.payload() == {"estat": "PAID", "dataPagament": "2025-03-01"}


def test_states_the_hub_shows_are_skipped(seeded: Path) -> None:
    plan = plan_for(
        seeded, events(("200", "ANNOTATED", "2025-01-13", "RCF-2"), ("200", "RECOGNISED", "2025-02-01"))
    )
    assert [u.state.value for u in plan.owed["200"]] == ["RECOGNISED"]


def test_final_hub_states_make_disagreements_discrepancies(seeded: Path) -> None:
    plan = plan_for(
        seeded,
        events(
            ("300", "PAID", "2025-02-21"),  # hub paid on 2025-02-20
            ("400", "PAID", "2025-03-01"),  # hub rejected
            ("300", "RECEIVED", "2025-01-20"),  # optional, hub moved past: noted only
        ),
    )
    assert plan.owed == {}
    reasons = {(d.invoice_id, d.state): d for d in plan.discrepancies}
    assert "hub shows PAID on 2025-02-20" in reasons[("300", "PAID")].reason
    assert "REJECTED (final)" in reasons[("400", "PAID")].reason
    assert reasons[("300", "RECEIVED")].blocking is False


def test_payment_before_registry_is_not_pushed(seeded: Path) -> None:
    plan = plan_for(seeded, events(("500", "RECOGNISED", "2025-01-26"), ("500", "PAID", "2025-01-01")))
    assert [u.state.value for u in plan.owed["500"]] == ["RECOGNISED"]
    assert any("before the registry date" in d.reason for d in plan.discrepancies)


def test_unknown_and_quarantined_invoices(seeded: Path) -> None:
    plan = plan_for(
        seeded,
        events(("999", "RECOGNISED", "2025-02-01"), ("100", "RECOGNISED", "2025-02-01")),
        quarantine={"100": "quality: supplier tax id invalid"},
    )
    assert plan.owed == {}
    assert plan.blocked == {"100": "quality: supplier tax id invalid"}
    assert any(d.invoice_id == "999" and "unknown invoice" in d.reason for d in plan.discrepancies)


def test_rejection_pushed_last_with_reason(seeded: Path) -> None:
    plan = plan_for(
        seeded,
        events(
            ("100", "REJECTED", "2025-01-14", None, "Sense expedient"),
            ("100", "ANNOTATED", "2025-01-12", "R1"),
        ),
    )
    assert [u.state.value for u in plan.owed["100"]] == ["ANNOTATED", "REJECTED"]
    assert plan.owed["100"][1].push.payload()["descripcioMotiuRebuig"] == "Sense expedient"


def test_plan_rows_for_dry_run(seeded: Path) -> None:
    plan = plan_for(seeded, events(("100", "RECOGNISED", "2025-02-01"), ("400", "PAID", "2025-03-01")))
    rows = plan.rows()
    assert {r["action"] for r in rows} == {"push", "discrepancy"}
    assert pa.Table.from_pylist(rows).num_rows == 2
