"""The seam between GX's SQL datasource and DuckDB: one cursor per query.

GX 1.24 runs ``execute_query(q).fetchall()`` and fetches *after* the SQLAlchemy connection's
``with`` block has closed it. Closing rolls back the autobegun transaction on the DBAPI
connection, and duckdb-engine 0.17 hands SQLAlchemy the *connection itself* as every cursor
(Mause/duckdb_engine#1087), so DuckDB drops the pending result: GX then reads ``[]`` and fails
with ``IndexError`` in ``resolve_metric_bundle``. No pool, reset or version setting changes
that; an independent DuckDB cursor per SQLAlchemy cursor does, because a rollback on the
parent no longer touches the query's result.

:func:`engine_kwargs` returns the ``create_engine`` arguments GX passes through
(``add_sql(..., kwargs=...)``): a ``creator`` that hands out such connections over one shared
in-process DuckDB database, and a single static pool.
"""

from __future__ import annotations

from typing import Any

import duckdb
from duckdb_engine import ConnectionWrapper, CursorWrapper
from sqlalchemy.pool import StaticPool

# GX names the engine by URL; the creator below decides what it actually opens.
CONNECTION_STRING = "duckdb:///:memory:"


class _OwnedCursor(CursorWrapper):
    def __init__(self, cursor: duckdb.DuckDBPyConnection, connection: ConnectionWrapper) -> None:
        super().__init__(cursor, connection)
        self._owned = cursor

    def close(self) -> None:
        self._owned.close()


class IsolatedCursorConnection(ConnectionWrapper):
    """duckdb-engine's DBAPI connection, except that each ``cursor()`` is its own DuckDB cursor."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        super().__init__(connection)
        self._raw = connection

    def cursor(self) -> CursorWrapper:
        return _OwnedCursor(self._raw.cursor(), self)


def engine_kwargs(database: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """``create_engine`` keyword arguments that make GX query ``database`` (kept open by the caller)."""
    return {
        "creator": lambda: IsolatedCursorConnection(database.cursor()),
        "poolclass": StaticPool,
    }
