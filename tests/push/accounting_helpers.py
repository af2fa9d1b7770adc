"""Shared by the accounting import tests: the fixtures folder, the warehouse's rows, an import call."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from rcflow.push.accounting import ImportResult, ReadOptions, import_events, read_options
from rcflow.warehouse import Warehouse

FIXTURES = Path(__file__).parent / "fixtures" / "accounting"
TODAY = date(2025, 6, 1)
REASON = "falta el número d'expedient"


def prepare(warehouse: Path) -> None:
    """Invoice 500 is the 8,054.53 EUR one the fixtures name (the seeded amounts are 100.00)."""
    with Warehouse(warehouse) as wh:
        wh.con.execute("update raw.invoices set amount_cents = 805453 where invoice_id = '500'")


def imported(warehouse: Path) -> tuple[list[tuple], list[tuple]]:
    """(events, exclusions) as stored, sorted; with the line each came from."""
    with Warehouse(warehouse, publish=False) as wh:
        events = wh.fetch(
            "select invoice_id, state, event_date, rcf_number, reason_code, reason, line_no"
            " from ops.accounting_events order by all"
        )
        exclusions = wh.fetch(
            "select invoice_id, reason, note, line_no from ops.scope_exclusions order by all"
        )
    return events, exclusions


def load(
    warehouse: Path, path: Path, *, encoding: str | None = None, separator: str | None = None,
    mapping: Path | None = None,
) -> ImportResult:
    """Import ``path`` as ``rcflow accounting import`` would, with its options."""
    options: ReadOptions = read_options(encoding, separator, mapping)
    with Warehouse(warehouse) as wh:
        return import_events(wh, path, today=TODAY, options=options)


def count_events(warehouse: Path) -> int:
    with Warehouse(warehouse, publish=False) as wh:
        return wh.fetch("select count(*) from ops.accounting_events")[0][0]
