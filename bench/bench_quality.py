"""Benchmark: every quality suite over 1,000,000 invoices and 6,000,000 state rows.

    .venv/bin/python bench/bench_quality.py [--invoices N] [--keep DIR]

Synthesises a warehouse in bulk with DuckDB SQL (about 0.1% of rows broken per rule, so the
quarantine has real work), runs :func:`rcflow.quality.run_checks` and prints the time per suite
and in total. Goal: under 60 s on the project machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
from stdnum.es import cif

from rcflow.cli.common import hush_stderr_at_exit
from rcflow.quality import run_checks
from rcflow.warehouse import Warehouse

GOAL_SECONDS = 60.0
SUPPLIERS = 50_000
ENTITIES = 200
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _tax_ids() -> tuple[pa.Table, pa.Table]:
    """Valid CIFs: suppliers (B + 7 digits) and public entities (P + 7 digits), ES-prefixed."""
    bodies = [f"B{n:07d}" for n in range(1_000_000, 1_000_000 + SUPPLIERS)]
    suppliers = [f"ES{b}{cif.calc_check_digits(b)[0]}" for b in bodies]
    entities = [f"P08{n:05d}{cif.calc_check_digits(f'P08{n:05d}')[1]}" for n in range(ENTITIES)]
    return (
        pa.table({"n": pa.array(range(SUPPLIERS), pa.int64()), "nif": suppliers}),
        pa.table({"n": pa.array(range(ENTITIES), pa.int64()), "nif": entities}),
    )


INVOICES_SQL = """
insert into raw.invoices (
    invoice_id, invoice_number, issue_date, amount_cents, supplier_nif, entity_nif,
    accounting_office, managing_body, processing_unit, registry_number, registry_at,
    hub_state, source, raw_json, first_seen_at, fetched_at)
select
    (100000000 + i)::varchar,
    'F-' || i,
    date '2023-01-01' + (i % 800)::int,
    case when i % 997 = 5 then null when i % 499 = 7 then -(1000 + i % 50000)
         else 1000 + (i * 7919) % 5000000 end,
    case when i % 1009 = 3 then 'B00000000' else s.nif end,
    e.nif,
    case when i % 2003 = 11 then 'X' || i else 'L' || lpad((i % 9999)::varchar, 8, '0') end,
    'LA' || lpad((i % 999)::varchar, 7, '0'),
    'A09' || lpad((i % 99999)::varchar, 6, '0'),
    'E2024' || lpad(i::varchar, 7, '0'),
    (date '2023-01-01' + (i % 800)::int + case when i % 1013 = 9 then -3 else 1 end)::timestamptz
        + interval 9 hour,
    'PAID', 'pending', '{{}}', ?, ?
from range({n}) r(i)
join _suppliers s on s.n = i % {suppliers}
join _entities e on e.n = i % {entities}
"""

DOCUMENTS_SQL = """
insert into raw.facturae_documents (
    invoice_id, sha256, parse_status, parse_error, schema_version, invoice_class, currency,
    total_cents, parsed_at)
select
    (100000000 + i)::varchar, md5(i::varchar),
    case when i % 1019 = 13 then 'quarantined' else 'ok' end,
    case when i % 1019 = 13 then 'signature does not verify' end,
    '3.2.2',
    case when i % 1021 = 17 then 'OR' else 'OO' end,
    case when i % 1031 = 19 or i % 1019 = 13 then null else 'EUR' end,
    1000 + (i * 7919) % 5000000,
    ?
from range({n}) r(i)
"""

MISMATCHES_SQL = """
insert into raw.facturae_mismatches (invoice_id, field, hub_value, xml_value)
select (100000000 + i)::varchar, 'total', '10.00', '11.00'
from range({n}) r(i) where i % 1033 = 23
"""

# Six states per invoice; about 0.1% of histories broken in one way each.
STATES_SQL = """
insert into raw.invoice_states (
    invoice_id, seq, state, state_code, state_at, registry_number, rcf_number, reject_reason,
    payment_date, raw_json, fetched_at)
select
    (100000000 + i)::varchar,
    k,
    ['REGISTERED', 'DELIVERED', 'ANNOTATED', 'RECEIVED', 'RECOGNISED', 'PAID'][k + 1],
    case when k = 2 and i % 1039 = 29 then '2500'
         else ['1200', '1250', '1400', '2100', '2400', '2500'][k + 1] end,
    (date '2023-01-01' + (i % 800)::int + 1)::timestamptz + interval 9 hour
        + to_days(case when k = 3 and i % 1049 = 31 then 0 else [0, 0, 2, 5, 10, 30][k + 1] end),
    case when k = 0 then 'E2024' || lpad(i::varchar, 7, '0') end,
    case when k = 2 and i % 1051 != 37 then 'RCF-' || i end,
    null,
    case when k = 5 and i % 1061 != 41 then date '2023-01-01' + (i % 800)::int + 31 end,
    '{{}}', ?
from range({n}) r(i), range(6) s(k)
"""

EVENTS_SQL = """
insert into ops.accounting_events (
    invoice_id, state, event_date, rcf_number, import_id, line_no)
select
    (100000000 + i)::varchar,
    ['ANNOTATED', 'RECOGNISED', 'PAID'][k + 1],
    date '2023-01-01' + (i % 800)::int
        + case when k = 1 and i % 1063 = 43 then -1 else [3, 11, 31][k + 1] end,
    case when k = 0 then 'RCF-' || i end,
    'bench', (i * 3 + k)::int
from range({n}) r(i), range(3) s(k)
"""


def synthesise(path: Path, n: int) -> None:
    suppliers, entities = _tax_ids()
    fmt = {"n": n, "suppliers": SUPPLIERS, "entities": ENTITIES}
    with Warehouse(path) as wh, wh.registered("_suppliers", suppliers):
        with wh.registered("_entities", entities):
            wh.con.execute(INVOICES_SQL.format(**fmt), [NOW, NOW])
        wh.con.execute(DOCUMENTS_SQL.format(**fmt), [NOW])
        wh.con.execute(MISMATCHES_SQL.format(**fmt))
        wh.con.execute(STATES_SQL.format(**fmt), [NOW])
        wh.con.execute(EVENTS_SQL.format(**fmt))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the warehouse here and keep it")
    args = parser.parse_args(argv)
    hush_stderr_at_exit()
    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        root = args.keep or Path(tmp)
        path = root / "data" / "warehouse.duckdb"
        started = time.perf_counter()
        if path.exists():
            print(f"reusing {path}")
        else:
            synthesise(path, args.invoices)
            print(
                f"synthesised {args.invoices:,} invoices, {6 * args.invoices:,} states,"
                f" {3 * args.invoices:,} accounting events in {time.perf_counter() - started:.1f} s"
            )
        started = time.perf_counter()
        report = run_checks(path, run_id="bench", now=NOW)
        total = time.perf_counter() - started
    print("time per suite (frame SQL + GX checkpoint + quarantine query), and around them:")
    for step, seconds in report.timings.items():
        print(f"  {step:<28} {seconds:6.1f} s")
    other = total - sum(report.timings.values())
    print(f"  {'GX import':<28} {other:6.1f} s")
    print(f"  {'total':<28} {total:6.1f} s   (goal < {GOAL_SECONDS:.0f} s)")
    held = sum(report.quarantined.values())
    print(f"quarantined {held:,} (invoice, reason) pairs; flagged {sum(report.flagged.values()):,}")
    print(report.reason())
    return 0 if total < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
