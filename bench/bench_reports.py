"""Report build time at scale: 1,000,000 invoices and 6,000,000 hub states.

Synthesises a warehouse in bulk (DuckDB SQL generation), runs every report once for a month
(the heavier case: the trend spans 12 months), and compares with one hand-written DuckDB query
computing the same global PMP straight from the raw tables. Goals: reports < 60 s, within 2× of
the hand-written query, same PMP.

Run: .venv/bin/python bench/bench_reports.py [--invoices N] [--period 2025-11] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from rcflow.reports import build_reports, parse_period
from rcflow.warehouse import Warehouse, snapshot_path_for

ENTITIES = 20

# One row per invoice with every state's timestamp; ~3 % rejected, ~30 % with no ACCEPTED
# (RECEIVED instead), so every invoice has exactly 6 states. Registry entries spread over
# 2024-2025; 0.5 % credit notes.
INVOICE_PLAN = """
create temp table plan as
select
    i,
    'INV' || lpad(cast(i as varchar), 7, '0') as invoice_id,
    'P08' || lpad(cast(i % {entities} as varchar), 5, '0') || 'A' as entity_nif,
    case when hash(i, 1) % 200 = 0 then -1 else 1 end
        * cast(1000 + hash(i, 2) % 5000000 as bigint) as amount_cents,
    timestamptz '2024-01-01 08:00:00+01' + to_seconds(cast(hash(i, 3) % (730 * 86400) as bigint))
        as registered_at,
    hash(i, 4) % 100 < 3 as is_rejected,
    hash(i, 5) % 100 < 70 as has_acceptance,
    cast(hash(i, 6) % 3 as integer) as d_delivered,
    cast(1 + hash(i, 7) % 10 as integer) as d_annotated,
    cast(hash(i, 8) % 40 as integer) as d_accepted,
    cast(1 + hash(i, 9) % 15 as integer) as d_recognised,
    cast(1 + hash(i, 10) % 60 as integer) as d_paid
from range({n}) as t(i)
"""

INSERT_INVOICES = """
insert into raw.invoices (invoice_id, invoice_number, issue_date, amount_cents, supplier_nif,
    supplier_name, entity_nif, registry_number, registry_at, source, raw_json, first_seen_at,
    fetched_at)
select invoice_id, 'F-' || i, cast(registered_at as date), amount_cents,
    'B' || lpad(cast(hash(i, 11) % 5000 as varchar), 8, '0'), 'Proveidor ' || (hash(i, 11) % 5000),
    entity_nif, 'E' || i, registered_at, 'pending', '{}', registered_at, registered_at
from plan
"""

INSERT_STATES = """
insert into raw.invoice_states (invoice_id, seq, state, state_at, registry_at, rcf_number,
    payment_date, raw_json, fetched_at)
with stamps as (
    select
        invoice_id, is_rejected, has_acceptance, registered_at,
        registered_at + to_days(d_delivered) as delivered_at,
        registered_at + to_days(d_delivered + d_annotated) as annotated_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted) as accepted_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted + d_recognised)
            as recognised_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted + d_recognised + d_paid)
            as paid_at
    from plan
),
rows as (
    select invoice_id, 1 as seq, 'REGISTERED' as state, registered_at as state_at from stamps
    union all select invoice_id, 2, 'DELIVERED', delivered_at from stamps
    union all select invoice_id, 3, 'ANNOTATED', annotated_at from stamps
    union all select invoice_id, 4, case when has_acceptance then 'ACCEPTED' else 'RECEIVED' end,
        accepted_at from stamps
    union all select invoice_id, 5, case when is_rejected then 'REJECTED' else 'RECOGNISED' end,
        recognised_at from stamps
    union all select invoice_id, 6, case when is_rejected then 'SENT' else 'PAID' end,
        case when is_rejected then registered_at - interval 1 minute else paid_at end from stamps
)
select invoice_id, seq, state, state_at,
    case when state = 'REGISTERED' then state_at end,
    case when state = 'ANNOTATED' then 'RCF-' || invoice_id end,
    case when state = 'PAID' then cast(timezone('Europe/Madrid', state_at) as date) end,
    '{}', state_at
from rows
"""

INSERT_OPS = """
insert into ops.quarantine (invoice_id, stage, reason, detected_at)
select invoice_id, 'quality', 'amount_mismatch', registered_at from plan where hash(i, 12) % 200 = 0;
insert into ops.accounting_imports values ('bench', 'bench.csv', 0, now());
insert into ops.accounting_events (invoice_id, state, event_date, import_id, line_no)
select invoice_id, 'PAID', cast(registered_at as date) + 20, 'bench', cast(i as integer)
from plan where hash(i, 13) % 50 = 0;
"""

# The same global PMP (RD 1040/2017), written by hand against the raw tables.
HAND_PMP = """
with states as (
    select
        invoice_id,
        min(cast(timezone('Europe/Madrid', registry_at) as date))
            filter (where state = 'REGISTERED') as registered_on,
        min(cast(timezone('Europe/Madrid', state_at) as date))
            filter (where state = 'ACCEPTED') as accepted_on,
        min(cast(timezone('Europe/Madrid', state_at) as date))
            filter (where state = 'PAID') as paid_on,
        min(cast(timezone('Europe/Madrid', state_at) as date))
            filter (where state = 'REJECTED') as rejected_on,
        arg_min(coalesce(payment_date, cast(timezone('Europe/Madrid', state_at) as date)), state_at)
            filter (where state = 'PAID') as payment_on
    from raw.invoice_states
    group by invoice_id
),
as_of as (
    select
        i.amount_cents,
        s.registered_on,
        case when s.accepted_on <= $end then s.accepted_on end as accepted_on,
        case when s.paid_on <= $end then s.payment_on end as payment_on,
        case when s.rejected_on <= $end then s.rejected_on end as rejected_on,
        case when s.paid_on <= $end then s.paid_on end as paid_on
    from raw.invoices as i
    join states as s using (invoice_id)
    where s.registered_on <= $end
        and i.amount_cents >= 0
        and invoice_id not in (select invoice_id from ops.quarantine where resolved_at is null)
),
operations as (
    select
        amount_cents,
        case when payment_on <= $end then payment_on else $end end
            - case when accepted_on >= registered_on then accepted_on else registered_on end
            as days
    from as_of
    where (rejected_on is null or rejected_on >= paid_on)
        and (payment_on is null or payment_on > $end or payment_on >= $start)
)
select sum(days * amount_cents) / sum(amount_cents) as pmp, count(*) as operations
from operations
"""

PMP_PATH = ("stg_efact__invoices", "stg_efact__invoice_states", "stg_efact__facturae_documents",
            "stg_efact__entities", "stg_rcflow__quarantine",
            "int_invoice_states_pivoted_to_invoices", "int_invoices_joined_to_milestones",
            "int_invoices_dated_as_of_period", "model.rcflow_reports.pmp")  # fmt: skip


def synthesise(path: Path, n: int) -> float:
    started = time.perf_counter()
    with Warehouse(path) as wh:
        con = wh.con
        con.execute(INVOICE_PLAN.format(n=n, entities=ENTITIES))
        con.execute(INSERT_INVOICES)
        con.execute(INSERT_STATES)
        con.execute(INSERT_OPS)
        con.execute(
            f"insert into raw.entities select 'P08' || lpad(cast(i as varchar), 5, '0') || 'A', "
            f"'Ens ' || i, null, null, now() from range({ENTITIES}) t(i)"
        )
    return time.perf_counter() - started


def hand_pmp(path: Path, period: str) -> tuple[float, float, int]:
    p = parse_period(period)
    with duckdb.connect(str(snapshot_path_for(path)), read_only=True) as con:
        started = time.perf_counter()
        pmp, operations = con.execute(HAND_PMP, {"start": p.start, "end": p.end}).fetchone()
        return time.perf_counter() - started, float(pmp), int(operations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--period", default="2025-11")
    parser.add_argument("--keep", type=Path, help="keep the warehouse and outputs here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="rcflow-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = root / "warehouse.duckdb"
        for stale in root.glob("warehouse*.duckdb*"):
            stale.unlink()
        setup = synthesise(warehouse, args.invoices)
        with duckdb.connect(str(snapshot_path_for(warehouse)), read_only=True) as con:
            states = con.execute("select count(*) from raw.invoice_states").fetchone()[0]
        started = time.perf_counter()
        result = build_reports(warehouse, args.period, root / "out")
        reports = time.perf_counter() - started
        hand_seconds, hand, operations = hand_pmp(warehouse, args.period)
        with Warehouse(root / "empty" / "warehouse.duckdb"):
            pass
        started = time.perf_counter()
        build_reports(root / "empty" / "warehouse.duckdb", args.period, root / "out_empty")
        fixed = time.perf_counter() - started  # dbt in a warm process, no data
        pmp_path = sum(
            s for node, s in result.dbt_node_seconds.items()
            if node.startswith("model.") and node.endswith(PMP_PATH)
        )  # fmt: skip
        same = result.pmp_global is not None and abs(float(result.pmp_global) - hand) < 0.005
        rows = [
            ("invoices / states", f"{args.invoices:,} / {states:,}", ""),
            ("synthesise warehouse", f"{setup:.1f} s", ""),
            ("all reports (1 dbt build + CSV + HTML)", f"{reports:.1f} s",
             "ok (< 60 s)" if reports < 60 else "SLOW (goal < 60 s)"),
            ("  of which dbt build", f"{result.seconds['dbt']:.1f} s", ""),
            ("  of which PMP models (staging → pmp)", f"{pmp_path:.1f} s", ""),
            ("same build on an empty warehouse (fixed cost)", f"{fixed:.1f} s", ""),
            ("hand-written PMP query", f"{hand_seconds:.1f} s", ""),
            ("reports / hand query", f"{reports / hand_seconds:.1f}×",
             "ok (≤ 2×)" if reports <= 2 * hand_seconds else "over the 2× goal"),
            ("PMP models / hand query", f"{pmp_path / hand_seconds:.1f}×",
             "ok (≤ 2×)" if pmp_path <= 2 * hand_seconds else "over the 2× goal"),
            (f"global PMP {args.period} (reports / hand)",
             f"{float(result.pmp_global or 0):.2f} / {hand:.2f}", "same" if same else "DIFFERENT"),
            ("operations in the hand query", f"{operations:,}", ""),
        ]  # fmt: skip
        print("| measure | value | check |")
        print("|---|---:|---|")
        for name, value, check in rows:
            print(f"| {name} | {value} | {check} |")
        if not same:
            raise SystemExit("the reports and the hand-written query disagree on the PMP")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
