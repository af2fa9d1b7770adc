"""The GX ↔ DuckDB seam: why it exists, and that it fixes GX's SQL datasource.

If the first test ever fails (a DuckDB, duckdb-engine or GX upgrade keeps results alive after
the connection closes), ``rcflow/quality/gx_duckdb.py`` can go.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import great_expectations as gx
import sqlalchemy as sa

from rcflow.quality.gx_duckdb import CONNECTION_STRING, engine_kwargs
from rcflow.quality.quiet import quiet_gx


def test_duckdb_engine_alone_drops_the_result_when_the_connection_closes(tmp_path: Path) -> None:
    """GX's ``execute_query`` pattern: fetch after the ``with engine.connect()`` block."""
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'plain.duckdb'}")
    with engine.connect() as connection:
        result = connection.execute(sa.text("select 42"))
    assert result.fetchall() == []  # the rollback on close took the pending result with it
    engine.dispose()


def test_isolated_cursors_keep_the_result() -> None:
    db = duckdb.connect()
    engine = sa.create_engine(CONNECTION_STRING, **engine_kwargs(db))
    with engine.connect() as connection:
        result = connection.execute(sa.text("select 42"))
    assert result.fetchall() == [(42,)]
    engine.dispose()
    assert db.execute("select 1").fetchall() == [(1,)]  # the shared database is still open


def _null_count(**source: object) -> tuple[int | None, bool]:
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_sql(name="s", **source).add_table_asset(name="t", table_name="t")
    batch = asset.add_batch_definition_whole_table("all")
    suite = context.suites.add(
        gx.ExpectationSuite(
            name="t_suite", expectations=[gx.expectations.ExpectColumnValuesToNotBeNull(column="v")]
        )
    )
    vd = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    (result,) = vd.run().results
    return result.result.get("unexpected_count"), bool(result.exception_info.get("raised_exception"))


def test_gx_sql_datasource_needs_the_seam(tmp_path: Path) -> None:
    """Through the plain connection string GX errors out; through the seam it counts right."""
    table = "create table t as select i, nullif(i % 4, 0) as v from range(10) r(i)"
    path = tmp_path / "t.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(table)
    db = duckdb.connect()
    db.execute(table)
    with quiet_gx():
        plain = _null_count(connection_string=f"duckdb:///{path}")
        seam = _null_count(connection_string=CONNECTION_STRING, kwargs=engine_kwargs(db))
    assert plain[0] is None
    assert seam == (3, False)
