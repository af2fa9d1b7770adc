"""The check database: an in-process DuckDB holding one batch table per suite.

The warehouse snapshot is attached read-only (so checks never wait for, or block, the writer),
tax ids are validated once per distinct value, and each suite's frame is materialised once:
GX then runs many small queries over narrow tables instead of recomputing joins and windows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rcflow.quality.suites import Suite
from rcflow.taxid import validate_tax_ids

_DISTINCT_TAX_IDS = """
select supplier_nif as tax_id from wh.raw.invoices where supplier_nif is not null
union
select entity_nif from wh.raw.invoices where entity_nif is not null
"""


def _load_tax_ids(db: duckdb.DuckDBPyConnection) -> int:
    ids = db.sql(_DISTINCT_TAX_IDS).to_arrow_table().column("tax_id").to_pylist()
    validated = validate_tax_ids(ids)
    db.register("_rcflow_tax_ids", validated)
    try:
        db.execute("create table tax_ids as select * from _rcflow_tax_ids")
    finally:
        db.unregister("_rcflow_tax_ids")
    return validated.num_rows


@contextmanager
def check_database(snapshot: Path, suites: Sequence[Suite]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with ``tax_ids`` and every suite's batch table, built from ``snapshot``."""
    db = duckdb.connect(":memory:")
    try:
        literal = str(snapshot).replace("'", "''")
        db.execute(f"attach '{literal}' as wh (read_only)")
        _load_tax_ids(db)
        for suite in suites:
            db.execute(f"create table {suite.table} as {suite.frame_sql}")
        db.execute("detach wh")
        yield db
    finally:
        db.close()
