"""One definition of what the hub is owed: `rcflow status --json`, `rcflow push --dry-run --json`
and the report's ``updates_owed_to_hub`` give the same numbers on a warehouse built to make three
separate definitions disagree (a RECEIVED after RECOGNISED, an event already on the hub, a
quarantined invoice, a refused payload)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.ingest.rows import INVOICE_SCHEMA, STATE_SCHEMA
from rcflow.reports import build_reports
from rcflow.warehouse import Warehouse

# (invoice, state, date, rcf number); the hub's side is the `seeded` fixture plus invoice 600
EVENTS = [
    ("100", "RECOGNISED", "2025-02-01", None),  # owed, but 100 is quarantined: held
    ("200", "ANNOTATED", "2025-01-13", "RCF-2"),  # already on the hub
    ("200", "RECOGNISED", "2025-02-01", None),  # due
    ("500", "ANNOTATED", "2025-01-26", "RCF-5"),  # due
    ("600", "RECEIVED", "2025-02-10", None),  # the hub is RECOGNISED: can no longer be sent
    ("600", "PAID", "2025-03-01", None),  # due
    ("700", "ANNOTATED", "2025-01-29", "RCF-7"),  # refused by the hub before, unchanged: held
    ("700", "RECOGNISED", "2025-02-15", None),  # waits behind the refused ANNOTATED
]
DUE = Counter({"RECOGNISED": 1, "ANNOTATED": 1, "PAID": 1})


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T10:00:00+00:00")


def invoice(invoice_id: str, registry_day: str, state: str) -> dict:
    """A raw.invoices row as the sync writes it (the `seeded` fixture's shape)."""
    row = dict.fromkeys(INVOICE_SCHEMA.names)
    row.update(invoice_id=invoice_id, amount_cents=10000, entity_nif="ESP0800000B", hub_state=state,
               registry_at=_at(registry_day), source="pending", raw_json="{}",
               first_seen_at=_at(registry_day), fetched_at=_at(registry_day))  # fmt: skip
    return row


def states(invoice_id: str, *entries: tuple[str, str]) -> list[dict]:
    rows = []
    for seq, (state, day) in enumerate(entries, start=1):
        row = dict.fromkeys(STATE_SCHEMA.names)
        row.update(invoice_id=invoice_id, seq=seq, state=state, state_at=_at(day), raw_json="{}",
                   fetched_at=_at(day))  # fmt: skip
        rows.append(row)
    return rows


def _disagreeing(path: Path) -> None:
    now = datetime(2025, 4, 1, tzinfo=UTC)
    extra_invoices = [invoice("600", "2025-01-27", "RECOGNISED"), invoice("700", "2025-01-28", "DELIVERED")]
    extra_states = states(
        "600", ("REGISTERED", "2025-01-27"), ("ANNOTATED", "2025-01-28"), ("RECOGNISED", "2025-02-05")
    ) + states("700", ("REGISTERED", "2025-01-28"))
    events = pa.Table.from_pylist(
        [
            {
                "invoice_id": i,
                "state": s,
                "event_date": date.fromisoformat(d),
                "rcf_number": rcf,
                "import_id": "test",
                "line_no": n,
            }
            for n, (i, s, d, rcf) in enumerate(EVENTS, start=1)
        ]  # fmt: skip
    )
    with Warehouse(path) as wh, wh.transaction() as con:
        wh.append("raw.invoices", pa.Table.from_pylist(extra_invoices, schema=INVOICE_SCHEMA))
        wh.append("raw.invoice_states", pa.Table.from_pylist(extra_states, schema=STATE_SCHEMA))
        wh.append("ops.accounting_events", events)
        con.execute(
            "insert into ops.quarantine values ('100', 'quality', 'amount_mismatch', 'x', ?, null)", [now]
        )
        con.execute(
            "insert into ops.push_outbox (invoice_id, state, payload, status, attempts, http_status,"
            " error_code, error_message, created_at, updated_at, run_id) values"
            " ('700', 'ANNOTATED', ?, 'refused', 1, 400, '3007', 'bad RCF', ?, ?, 'push-1')",
            [json.dumps({"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-7"}), now, now],
        )


def test_status_push_plan_and_report_count_the_same_owed_updates(seeded: Path, tmp_path: Path) -> None:
    _disagreeing(seeded)
    runner = CliRunner()
    env = {"RCFLOW_WAREHOUSE": str(seeded), "RCFLOW_HUB_URL": "", "RCFLOW_STORE_DIR": str(tmp_path / "store")}

    status = json.loads(runner.invoke(app, ["status", "--json"], env=env, catch_exceptions=False).stdout)
    assert Counter({o["state"]: o["count"] for o in status["owed_to_hub"]}) == DUE
    assert [(b["invoice_id"], b["states"]) for b in status["blocked"]] == [("100", ["RECOGNISED"])]
    assert [(r["invoice_id"], r["state"]) for r in status["refused_updates"]] == [("700", "ANNOTATED")]

    dry = runner.invoke(app, ["push", "--dry-run", "--json"], env=env, catch_exceptions=False)
    plan = json.loads(dry.stdout)
    assert plan["owed"] == sum(DUE.values())
    assert Counter(r["state"] for r in plan["plan"] if r["action"] == "push") == DUE
    assert [(h["invoice_id"], h["states"]) for h in plan["blocked"]] == [("100", ["RECOGNISED"])]
    assert [(h["invoice_id"], h["states"]) for h in plan["refused"]] == [("700", ["ANNOTATED", "RECOGNISED"])]
    skipped = [(d["invoice_id"], d["state"], d["blocking"]) for d in plan["discrepancies"]]
    assert skipped == [("600", "RECEIVED", False)]

    report = build_reports(seeded, "2025-Q1", tmp_path / "out", checks=False)
    assert report.headline["updates_owed_to_hub"] == sum(DUE.values())
    assert report.headline["invoices_owing_hub"] == 3
