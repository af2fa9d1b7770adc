"""Report build time at scale: 1,000,000 invoices, 6,000,000 hub states, ~0.8M accounting events.

Synthesises a warehouse in bulk (DuckDB SQL generation; a fifth of the invoices onboarded with
a backlog, so the hub recorded their states long after the facts), then times, for a month (the
heavier case: the trend spans 12 months):
  * every report, in a fresh process (dbt import and parse included) and warm;
  * the PMP alone through dbt (`--select +pmp`: the mart and every model it reads), both the
    wall time and the sum of the models' execution times;
  * one hand-written DuckDB statement computing the same global PMP from the raw tables with
    the same rules (effective dates, exclusions), which must give the same figure.
The PMP-only builds (after one untimed build that parses the project for their database) and
the hand-written query run alternately (build, query, build, ...), so on a shared machine both
see the same load; each figure is the median of its runs (at least 5 of each).
Goals: reports < 60 s; the PMP through dbt within 1.5x of the hand-written query (issue 15).

Run: .venv/bin/python bench/bench_reports.py [--invoices N] [--period 2025-11] [--repeat 3]
     [--keep DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from rcflow import clock
from rcflow.reports import Readings, build_reports, parse_period
from rcflow.reports.build import period_vars
from rcflow.reports.dbt_runner import dbt_build
from rcflow.warehouse import Warehouse, fresh_snapshot, snapshot_path_for

ENTITIES = 20
PMP_GOAL = 1.5  # the PMP through dbt ÷ the hand query, in every run (issue 15)
PMP_PAIRS = 5  # at least this many (PMP-only build, hand query) pairs: they take seconds

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

# Each state's fact (its legal date) and when the hub recorded it. A fifth of the invoices
# belong to entities that onboarded with a backlog: the hub recorded all their states at the
# push on 2025-11-03, and the accounting system (ops.accounting_events) has the real dates.
# The rest were pushed within three hours. PAID carries its dataPagament, as on the hub.
INSERT_STATES = """
create temp table facts as
with timed as (
    select
        invoice_id, i, is_rejected, has_acceptance, registered_at,
        hash(i, 14) % 5 = 0 as is_backlog,
        registered_at + to_days(d_delivered) as delivered_at,
        registered_at + to_days(d_delivered + d_annotated) as annotated_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted) as accepted_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted + d_recognised)
            as recognised_at,
        registered_at + to_days(d_delivered + d_annotated + d_accepted + d_recognised + d_paid)
            as paid_at
    from plan
)
select invoice_id, i, is_backlog, 1 as seq, 'REGISTERED' as state, registered_at as fact_at
from timed
union all select invoice_id, i, false, 2, 'DELIVERED', delivered_at from timed
union all select invoice_id, i, is_backlog, 3, 'ANNOTATED', annotated_at from timed
union all select invoice_id, i, is_backlog, 4,
    case when has_acceptance then 'ACCEPTED' else 'RECEIVED' end, accepted_at from timed
union all select invoice_id, i, is_backlog, 5,
    case when is_rejected then 'REJECTED' else 'RECOGNISED' end, recognised_at from timed
union all select invoice_id, i, is_backlog, 6, case when is_rejected then 'SENT' else 'PAID' end,
    case when is_rejected then registered_at - interval 1 minute else paid_at end from timed;

insert into raw.invoice_states (invoice_id, seq, state, state_at, registry_at, rcf_number,
    payment_date, raw_json, fetched_at)
select invoice_id, seq, state, recorded_at,
    case when state = 'REGISTERED' then fact_at end,
    case when state = 'ANNOTATED' then 'RCF-' || invoice_id end,
    case when state = 'PAID' then cast(timezone('Europe/Madrid', fact_at) as date) end,
    '{}', recorded_at
from (
    select *,
        case
            when state in ('REGISTERED', 'SENT', 'DELIVERED') then fact_at
            when is_backlog then greatest(fact_at, timestamptz '2025-11-03 10:00:00+01')
            else fact_at + to_minutes(cast(hash(i, seq) % 180 as bigint))
        end as recorded_at
    from facts
);
"""

INSERT_OPS = """
insert into ops.quarantine (invoice_id, stage, reason, detected_at)
select invoice_id, 'quality', 'amount_mismatch', registered_at from plan where hash(i, 12) % 200 = 0;
insert into ops.accounting_imports values ('bench', 'bench.csv', 0, now());
insert into ops.accounting_events (invoice_id, state, event_date, import_id, line_no)
select invoice_id, state, cast(timezone('Europe/Madrid', fact_at) as date), 'bench',
    cast(row_number() over () as integer)
from facts
where is_backlog and state not in ('REGISTERED', 'SENT', 'DELIVERED');
"""

# Europe/Madrid date of a timestamptz, the same expression as the dbt macro madrid_date.
MADRID = """(case when epoch_us({0}) >= 315532800000000
        and (epoch_us({0}) // 3600000000) % 24 <> 22
    then date '1970-01-01' + cast((epoch_us({0}) + 7200000000) // 86400000000 as integer)
    else cast(timezone('Europe/Madrid', {0}) as date) end)"""

# The same global PMP (RD 1040/2017, effective dates: payment date, accounting dates, registry
# entry), written by hand as one statement against the raw tables.
HAND_PMP = f"""
with hub as (
    select
        invoice_id,
        min(coalesce(registry_at, state_at)) filter (where state = 'REGISTERED') as registered_at,
        min(state_at) filter (where state = 'ACCEPTED') as accepted_at,
        min(payment_date) filter (where state = 'PAID') as payment_date,
        min(state_at) filter (where state = 'PAID') as paid_at,
        min(state_at) filter (where state = 'REJECTED') as rejected_at
    from raw.invoice_states
    group by invoice_id
),
accounting as (
    select
        invoice_id,
        min(event_date) filter (where state = 'ACCEPTED') as accepted_on,
        min(event_date) filter (where state = 'PAID') as paid_on,
        min(event_date) filter (where state = 'REJECTED') as rejected_on
    from ops.accounting_events
    group by invoice_id
),
dated as (
    select
        coalesce(i.amount_cents, d.total_cents) as amount_cents,
        coalesce(i.issue_date, d.issue_date) as issue_date,
        {MADRID.format("coalesce(h.registered_at, i.registry_at)")} as registered_on,
        coalesce(a.accepted_on, {MADRID.format("h.accepted_at")}) as accepted_on,
        coalesce(h.payment_date, a.paid_on, {MADRID.format("h.paid_at")}) as payment_on,
        coalesce(a.rejected_on, {MADRID.format("h.rejected_at")}) as rejected_on
    from raw.invoices as i
    left join hub as h using (invoice_id)
    left join accounting as a using (invoice_id)
    left join raw.facturae_documents as d using (invoice_id)
    -- Invoices with open quality findings count (compliance-rules.md §4.1).
    -- Credit notes (a negative amount: the hub's, else the Facturae's) are out.
    where coalesce(coalesce(i.amount_cents, d.total_cents) >= 0, true)
),
as_of as (
    select
        amount_cents,
        registered_on,
        issue_date,
        case when accepted_on <= $end then accepted_on end as accepted_on,
        case when payment_on <= $end then payment_on end as payment_on,
        case when rejected_on <= $end then rejected_on end as rejected_on
    from dated
    where registered_on <= $end
),
operations as (
    select
        amount_cents,
        coalesce(payment_on, $end)
            - case when accepted_on >= registered_on then accepted_on else registered_on end
            as days
    from as_of
    where (rejected_on is null or rejected_on >= payment_on)
        and (payment_on is null or payment_on >= $start)
        and coalesce(issue_date, registered_on) >= date '2014-01-01'
)
select sum(days * amount_cents) / sum(amount_cents) as pmp, count(*) as operations
from operations
"""

def synthesise(path: Path, n: int) -> float:
    started = time.perf_counter()
    with Warehouse(path) as wh:
        con = wh.con
        con.execute(INVOICE_PLAN.format(n=n, entities=ENTITIES))
        con.execute(INSERT_INVOICES)
        con.execute(INSERT_STATES)
        con.execute(INSERT_OPS)
        con.execute(
            "insert into raw.entities (entity_nif, entity_name, ine10, raw_json, fetched_at)"
            " select 'P08' || lpad(cast(i as varchar), 5, '0') || 'A', "
            f"'Ens ' || i, null, null, now() from range({ENTITIES}) t(i)"
        )
    return time.perf_counter() - started


def hand_pmp(path: Path, period: str) -> tuple[float, float, int]:
    """The hand-written query on the snapshot: seconds, global PMP, operations."""
    p = parse_period(period)
    with duckdb.connect(str(snapshot_path_for(path)), read_only=True) as con:
        started = time.perf_counter()
        pmp, operations = con.execute(HAND_PMP, {"start": p.start, "end": p.end}).fetchone()
        return time.perf_counter() - started, float(pmp), int(operations)


def pmp_only(path: Path, period: str) -> tuple[float, float, float]:
    """``dbt build --select +pmp`` (the PMP mart and every model it reads, no tests) in this
    warm process, into memory as a report run builds: wall seconds, the models' summed
    execution seconds, global PMP."""
    p = parse_period(period)
    variables = {**period_vars(p, clock.today()), **Readings().to_vars()}
    with tempfile.TemporaryDirectory(prefix="rcflow-bench-pmp-") as tmp:
        started = time.perf_counter()
        with dbt_build(snapshot=snapshot_path_for(path), reports_db=None, variables=variables,
                       work_dir=Path(tmp), checks=False, select=("+pmp",)) as built:  # fmt: skip
            seconds = time.perf_counter() - started
            pmp = built.con.execute("select pmp from main.pmp where entity_nif = 'ALL'").fetchone()[0]
            run = built.run
    models = sum(s for node, s in run.node_seconds.items() if node.startswith("model."))
    return seconds, models, float(pmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--period", default="2025-11")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per measure (median)")
    parser.add_argument("--keep", type=Path, help="keep the warehouse and outputs here")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: reuse the warehouse synthesised there before")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="rcflow-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = root / "warehouse.duckdb"
        setup = 0.0
        if not (args.reuse and snapshot_path_for(warehouse).exists()):
            for stale in root.glob("warehouse*.duckdb*"):
                stale.unlink()
            setup = synthesise(warehouse, args.invoices)
        with duckdb.connect(str(fresh_snapshot(warehouse)), read_only=True) as con:
            states, events = con.execute(
                "select (select count(*) from raw.invoice_states),"
                " (select count(*) from ops.accounting_events)"
            ).fetchone()
        started = time.perf_counter()
        result = build_reports(warehouse, args.period, root / "out")
        cold = time.perf_counter() - started  # dbt imported and the project parsed here
        warm, untested = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            build_reports(warehouse, args.period, root / "out")
            warm.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_reports(warehouse, args.period, root / "out_untested", checks=False)
            untested.append(time.perf_counter() - started)
        pmp_only(warehouse, args.period)  # parses the project for this database name: not warm
        pmp_runs, hand_runs = [], []
        for _ in range(max(args.repeat, PMP_PAIRS)):  # alternated: the same load for both
            pmp_runs.append(pmp_only(warehouse, args.period))
            hand_runs.append(hand_pmp(warehouse, args.period))
        with Warehouse(root / "empty" / "warehouse.duckdb"):
            pass
        started = time.perf_counter()
        build_reports(root / "empty" / "warehouse.duckdb", args.period, root / "out_empty")
        fixed = time.perf_counter() - started  # dbt in a warm process, no data

        whole = statistics.median(warm)
        whole_untested = statistics.median(untested)
        pmp_wall = statistics.median([r[0] for r in pmp_runs])
        pmp_sql = statistics.median([r[1] for r in pmp_runs])
        hand_seconds = statistics.median([r[0] for r in hand_runs])
        hand, operations = hand_runs[0][1], hand_runs[0][2]
        pmps = [float(result.pmp_global or "nan"), *(r[2] for r in pmp_runs)]
        same = all(abs(v - hand) < 0.005 for v in pmps)

        def ratio(seconds: float, goal: float | None = None) -> tuple[str, str]:
            x = seconds / hand_seconds
            if goal is None:
                return f"{x:.1f}×", ""
            return f"{x:.2f}×", f"ok (≤ {goal}×)" if x <= goal else f"over the {goal}× goal"

        rows = [
            ("invoices / states / accounting events",
             f"{args.invoices:,} / {states:,} / {events:,}", ""),
            ("synthesise warehouse", f"{setup:.1f} s" if setup else "reused", ""),
            ("hand-written PMP query (one DuckDB statement)", f"{hand_seconds:.2f} s", ""),
            ("all reports, first build in the process (dbt import + parse)", f"{cold:.1f} s",
             "ok (< 60 s)" if cold < 60 else "SLOW (goal < 60 s)"),
            ("all reports, warm (1 dbt build with tests + CSV + HTML)", f"{whole:.1f} s",
             ""),
            ("  ÷ hand query", *ratio(whole)),
            ("all reports, warm, without dbt's data tests", f"{whole_untested:.1f} s", ""),
            ("  ÷ hand query", *ratio(whole_untested)),
            ("same build on an empty warehouse (dbt's fixed cost)", f"{fixed:.1f} s", ""),
            ("PMP only: dbt build --select +pmp, warm", f"{pmp_wall:.2f} s", ""),
            ("  ÷ hand query", *ratio(pmp_wall, PMP_GOAL)),
            ("  ÷ hand query, each pair (build ÷ the query right after it)",
             " ".join(f"{b[0] / h[0]:.2f}" for b, h in zip(pmp_runs, hand_runs, strict=True)),
             "ok" if all(b[0] / h[0] <= PMP_GOAL for b, h in zip(pmp_runs, hand_runs, strict=True))
             else f"over {PMP_GOAL}× in some"),
            ("PMP only: sum of the models' execution times (dbt)", f"{pmp_sql:.2f} s", ""),
            ("  ÷ hand query", *ratio(pmp_sql, PMP_GOAL)),
            (f"global PMP {args.period} (reports / PMP only / hand)",
             f"{pmps[0]:.2f} / {pmps[1]:.2f} / {hand:.2f}", "same" if same else "DIFFERENT"),
            ("operations in the hand query", f"{operations:,}", ""),
        ]  # fmt: skip
        print(f"warm figures: median of {args.repeat} runs "
              f"({max(args.repeat, PMP_PAIRS)} alternated runs for the PMP only and the hand query)")
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
