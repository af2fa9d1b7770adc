"""``ops.owed_updates`` (migration 012) for hubs that show only the current state, cancellations
and per-hub plans: an outbox-accepted state is shown, CANCELLED is final, ``source_hub`` splits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from rcflow.ingest.rows import INVOICE_SCHEMA, STATE_SCHEMA
from rcflow.push.plan import plan_from_warehouse
from rcflow.warehouse import Warehouse

AT = datetime(2025, 3, 1, 10, tzinfo=UTC)


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day + "T10:00:00+00:00")


def invoice(invoice_id: str, registry_day: str, state: str, **extra: object) -> dict:
    row = dict.fromkeys(INVOICE_SCHEMA.names)
    row.update(invoice_id=invoice_id, registry_number=f"E{invoice_id}", registry_at=_ts(registry_day),
               hub_state=state, source="pending", raw_json="{}", first_seen_at=_ts(registry_day),
               fetched_at=_ts(registry_day), **extra)  # fmt: skip
    return row


def states(invoice_id: str, *entries: tuple[str, str]) -> list[dict]:
    rows = []
    for seq, (state, day) in enumerate(entries, start=1):
        row = dict.fromkeys(STATE_SCHEMA.names)
        paid = date.fromisoformat(day) if state == "PAID" else None
        row.update(invoice_id=invoice_id, seq=seq, state=state, state_at=_ts(day), raw_json="{}",
                   fetched_at=_ts(day), payment_date=paid)  # fmt: skip
        rows.append(row)
    return rows


@contextmanager
def _warehouse(
    path: Path, invoices: list[dict], history: list[dict], events: list[tuple]
) -> Iterator[Warehouse]:
    with Warehouse(path, publish=False) as wh:
        yield _seed(wh, invoices, history, events)


def _seed(wh: Warehouse, invoices: list[dict], history: list[dict], events: list[tuple]) -> Warehouse:
    wh.append("raw.invoices", pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA))
    for row in invoices:  # the writers stamp efact by default
        if row.get("source_hub"):
            wh.con.execute("update raw.invoices set source_hub = ? where invoice_id = ?",
                           [row["source_hub"], row["invoice_id"]])  # fmt: skip
    wh.append("raw.invoice_states", pa.Table.from_pylist(history, schema=STATE_SCHEMA))
    frame = pl.DataFrame(
        [
            {
                "invoice_id": i,
                "state": s,
                "event_date": date.fromisoformat(d),
                "rcf_number": rcf,
                "reason_code": None,
                "reason": None,
            }
            for i, s, d, rcf in events
        ]  # fmt: skip
    ).with_columns(import_id=pl.lit("test"), line_no=pl.int_range(pl.len(), dtype=pl.Int32))
    wh.append("ops.accounting_events", frame.to_arrow())
    return wh


def _verdicts(wh: Warehouse) -> dict[tuple[str, str], str]:
    rows = wh.fetch("select invoice_id, state, verdict from ops.owed_updates")
    return {(i, s): v for i, s, v in rows}


def _outbox(wh: Warehouse, invoice_id: str, state: str, status: str) -> None:
    wh.con.execute(
        "insert into ops.push_outbox (invoice_id, state, payload, status, created_at, updated_at)"
        " values (?, ?, ?, ?, ?, ?)",
        [invoice_id, state, f'{{"estat": "{state}"}}', status, AT, AT],
    )


def test_a_state_the_hub_accepted_through_rcflow_counts_as_shown(tmp_path: Path) -> None:
    """FACe shows only the current state: after RECOGNISED then PAID, only PAID is in the history."""
    with _warehouse(
        tmp_path / "w.duckdb",
        [invoice("F1", "2025-01-10", "PAID", source_hub="face")],
        states("F1", ("PAID", "2025-02-20")),
        [
            ("F1", "ANNOTATED", "2025-01-12", "RCF-1"),
            ("F1", "RECOGNISED", "2025-02-01", None),
            ("F1", "PAID", "2025-02-20", None),
        ],  # fmt: skip
    ) as wh:
        before = _verdicts(wh)
        _outbox(wh, "F1", "ANNOTATED", "sent")
        _outbox(wh, "F1", "RECOGNISED", "confirmed")
        after = _verdicts(wh)
    # Not shown: a discrepancy against the final PAID; accepted through rcflow: on the hub.
    assert before[("F1", "RECOGNISED")] == "superseded"
    assert after == {("F1", "ANNOTATED"): "on_hub", ("F1", "RECOGNISED"): "on_hub", ("F1", "PAID"): "on_hub"}


def test_a_refused_or_pending_outbox_entry_is_not_shown(tmp_path: Path) -> None:
    with _warehouse(
        tmp_path / "w.duckdb",
        [invoice("E1", "2025-01-10", "DELIVERED")],
        states("E1", ("REGISTERED", "2025-01-10"), ("DELIVERED", "2025-01-11")),
        [("E1", "ANNOTATED", "2025-01-12", "RCF-1"), ("E1", "RECOGNISED", "2025-02-01", None)],
    ) as wh:
        _outbox(wh, "E1", "ANNOTATED", "refused")
        _outbox(wh, "E1", "RECOGNISED", "pending")
        assert set(_verdicts(wh).values()) == {"owed"}


def test_a_cancelled_invoice_is_owed_nothing(tmp_path: Path) -> None:
    with _warehouse(
        tmp_path / "w.duckdb",
        [invoice("F2", "2025-01-10", "CANCELLED", source_hub="face")],
        states("F2", ("REGISTERED", "2025-01-10"), ("CANCELLED", "2025-01-20")),
        [
            ("F2", "ANNOTATED", "2025-01-12", "RCF-2"),
            ("F2", "RECOGNISED", "2025-02-01", None),
            ("F2", "PAID", "2025-02-20", None),
        ],  # fmt: skip
    ) as wh:
        verdicts = _verdicts(wh)
        rows = wh.fetch(
            "select bool_or(is_owed), bool_and(is_discrepancy), min(detail) from ops.owed_updates"
        )
        plan = plan_from_warehouse(wh)
    assert set(verdicts.values()) == {"final_on_hub"}
    assert rows == [(False, True, "hub shows CANCELLED (final) but accounting has ANNOTATED")]
    assert not plan.owed and {d.invoice_id for d in plan.discrepancies} == {"F2"}


def test_each_hub_plans_only_its_own_invoices(tmp_path: Path) -> None:
    with _warehouse(
        tmp_path / "w.duckdb",
        [
            invoice("E3", "2025-01-10", "DELIVERED"),
            invoice("F3", "2025-01-10", "DELIVERED", source_hub="face"),
        ],
        [],
        [
            ("E3", "ANNOTATED", "2025-01-12", "RCF-E"),
            ("F3", "ANNOTATED", "2025-01-12", "RCF-F"),
            ("X9", "ANNOTATED", "2025-01-12", "RCF-X"),
        ],  # fmt: skip
    ) as wh:
        hubs = dict(wh.fetch("select invoice_id, source_hub from ops.owed_updates"))
        efact, face = plan_from_warehouse(wh, hub="efact"), plan_from_warehouse(wh, hub="face")
        both = plan_from_warehouse(wh)
    assert hubs == {"E3": "efact", "F3": "face", "X9": None}
    assert set(efact.owed) == {"E3"} and set(face.owed) == {"F3"} and set(both.owed) == {"E3", "F3"}
    assert [u.push.payload() for u in face.owed["F3"]] == [
        {"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-F"}
    ]
    # An unknown invoice belongs to no hub: every hub's plan names it.
    assert "X9" in {d.invoice_id for d in efact.discrepancies} & {d.invoice_id for d in face.discrepancies}


def test_accounting_that_both_paid_and_rejected_an_invoice_blocks_its_rejection(tmp_path: Path) -> None:
    """A conflict is per invoice: the REJECTED event is a blocking discrepancy, the PAID one is a
    conflict unless the hub already shows it; an invoice with only one of them is not touched."""
    with _warehouse(
        tmp_path / "w.duckdb",
        [invoice("C1", "2025-01-10", "DELIVERED"), invoice("C2", "2025-01-10", "PAID"),
         invoice("C3", "2025-01-10", "DELIVERED")],
        [*states("C1", ("REGISTERED", "2025-01-10")), *states("C2", ("PAID", "2025-02-20")),
         *states("C3", ("REGISTERED", "2025-01-10"))],
        [
            ("C1", "PAID", "2025-02-20", None), ("C1", "REJECTED", "2025-02-21", None),
            ("C2", "PAID", "2025-02-20", None), ("C2", "REJECTED", "2025-02-21", None),
            ("C3", "REJECTED", "2025-02-21", None),
        ],  # fmt: skip
    ) as wh:
        verdicts = _verdicts(wh)
        blocking = dict(wh.fetch("select invoice_id || ':' || state, is_blocking from ops.owed_updates"))
    assert verdicts == {
        ("C1", "PAID"): "conflict", ("C1", "REJECTED"): "conflict",
        ("C2", "PAID"): "on_hub", ("C2", "REJECTED"): "conflict",
        ("C3", "REJECTED"): "owed",
    }  # fmt: skip
    assert blocking == {"C1:PAID": False, "C1:REJECTED": True, "C2:PAID": False, "C2:REJECTED": True,
                        "C3:REJECTED": False}  # fmt: skip
