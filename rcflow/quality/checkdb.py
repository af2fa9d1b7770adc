"""The check database: an in-process DuckDB holding one batch table per suite.

The warehouse is attached read-only (the live file when no writer holds it, else the freshest
snapshot: :func:`rcflow.warehouse.attached_for_reading`; checks never wait for a writer),
tax ids are validated once per distinct value, and each suite's frame is materialised once:
GX then runs many small queries over narrow tables instead of recomputing joins and windows.
GX only ever queries those tables, through the connection :mod:`gx_duckdb` hands it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rcflow.quality.suites import Suite
from rcflow.taxid import validate_tax_ids
from rcflow.warehouse import attached_for_reading

SNAPSHOT_ALIAS = "wh"  # the name suites' frame SQL reads the warehouse through

_DISTINCT_TAX_IDS = """
select supplier_nif as tax_id from wh.raw.invoices where supplier_nif is not null
union
select entity_nif from wh.raw.invoices where entity_nif is not null
"""


def _load_tax_ids(db: duckdb.DuckDBPyConnection) -> None:
    ids = db.sql(_DISTINCT_TAX_IDS).to_arrow_table().column("tax_id").to_pylist()
    db.register("_rcflow_tax_ids", validate_tax_ids(ids))
    try:
        db.execute("create table tax_ids as select * from _rcflow_tax_ids")
    finally:
        db.unregister("_rcflow_tax_ids")


@contextmanager
def check_database(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with ``warehouse`` attached as ``wh`` and the ``tax_ids`` table."""
    db = duckdb.connect(":memory:")
    try:
        with attached_for_reading(db, SNAPSHOT_ALIAS, warehouse):
            _load_tax_ids(db)
            yield db
    finally:
        db.close()


@contextmanager
def frame(db: duckdb.DuckDBPyConnection, suite: Suite) -> Iterator[str]:
    """``suite``'s batch table, materialised from the snapshot for the block, then dropped."""
    db.execute(f"create table {suite.table} as {suite.frame_sql}")
    try:
        yield suite.table
    finally:
        db.execute(f"drop table {suite.table}")
