"""Opening the warehouse safely.

DuckDB allows one writing process per file. rcflow's rule:

* writers (sync, push, check, import) open ``warehouse.duckdb`` through :class:`Warehouse`,
  waiting (bounded) while another writer holds it;
* readers (``rcflow sql``, dashboards, dbt) open the *snapshot*, a read-only copy that every
  writer republishes atomically when it finishes, so a reader never blocks a writer and a
  writer never breaks a reader.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

LOCK_RETRY_SECONDS = 0.25


class WarehouseBusy(Exception):
    """Another process holds the warehouse for writing longer than we were willing to wait."""


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("rcflow.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending versioned migrations in order; returns the names applied."""
    con.execute(
        "create table if not exists main.schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from main.schema_migrations").fetchall()}
    applied = []
    for version, name, sql in _migrations():
        if version in done:
            continue
        con.execute("begin transaction")
        try:
            con.execute(sql)
            con.execute("insert into main.schema_migrations values (?, ?, now())", [version, name])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        applied.append(name)
    return applied


def connect_with_retry(path: Path, *, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open ``path``, retrying while another process holds a conflicting lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                if _is_lock_error(exc):
                    raise WarehouseBusy(
                        f"warehouse {path} is held by another writer (waited {timeout:.0f}s)"
                    ) from None
                raise
            time.sleep(LOCK_RETRY_SECONDS)


class Warehouse:
    """The writer's handle on the warehouse. Use as a context manager.

    On exit the connection is checkpointed and closed, and the reader snapshot republished.
    """

    def __init__(self, path: Path | str, *, lock_timeout: float = 600.0, publish: bool = True):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.publish = publish
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> Warehouse:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = connect_with_retry(self.path, read_only=False, timeout=self.lock_timeout)
        migrate(self._con)
        return self

    def __exit__(self, *exc_info: object) -> None:
        con, self._con = self._con, None
        if con is None:
            return
        try:
            con.execute("checkpoint")
        finally:
            con.close()
        if self.publish:
            publish_snapshot(self.path)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("Warehouse is not open; use it as a context manager")
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One short write transaction: everything in it commits together or not at all."""
        con = self.con
        con.execute("begin transaction")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")

    def fetch(self, sql: str, params: Sequence[object] | None = None) -> list[tuple]:
        """Run a query and fetch every row (DuckDB 2.0 wants results finished before more work)."""
        return self.con.execute(sql, params or []).fetchall()

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return the rows as one Arrow table (no DB-API copy)."""
        self.con.complete()
        return self.con.sql(sql).to_arrow_table()

    def _register(self, name: str, table: pa.Table) -> None:
        self.con.complete()  # finish any half-read result first (DuckDB 2.0 refuses otherwise)
        self.con.register(name, table)

    @contextmanager
    def registered(self, name: str, table: pa.Table) -> Iterator[str]:
        """Expose an Arrow table to SQL as ``name`` for the duration of the block."""
        self._register(name, table)
        try:
            yield name
        finally:
            self.con.unregister(name)

    def upsert(self, table: str, rows: pa.Table, key: list[str], *, keep: Sequence[str] = ()) -> int:
        """Insert-or-update ``rows`` (Arrow) into ``table`` keyed on ``key``, in bulk.

        Columns named in ``keep`` are written on insert but never overwritten on update.
        """
        if rows.num_rows == 0:
            return 0
        con = self.con
        self._register("_rcflow_rows", rows)
        try:
            columns = ", ".join(f'"{c}"' for c in rows.column_names)
            conflict = ", ".join(f'"{c}"' for c in key)
            updates = ", ".join(
                f'"{c}" = excluded."{c}"' for c in rows.column_names if c not in key and c not in keep
            )
            action = f"do update set {updates}" if updates else "do nothing"
            con.execute(
                f"insert into {table} ({columns}) select {columns} from _rcflow_rows "
                f"on conflict ({conflict}) {action}"
            )
        finally:
            con.unregister("_rcflow_rows")
        return rows.num_rows

    def replace_for(self, table: str, rows: pa.Table, ids: Sequence[str], column: str) -> int:
        """Replace every row of ``table`` whose ``column`` is in ``ids`` with ``rows``."""
        if ids:
            self._register("_rcflow_ids", pa.table({"id": pa.array(list(ids), pa.string())}))
            try:
                self.con.execute(f'delete from {table} where "{column}" in (select id from _rcflow_ids)')
            finally:
                self.con.unregister("_rcflow_ids")
        return self.append(table, rows)

    def append(self, table: str, rows: pa.Table) -> int:
        """Append ``rows`` (Arrow) to ``table`` in bulk."""
        if rows.num_rows == 0:
            return 0
        con = self.con
        self._register("_rcflow_rows", rows)
        try:
            columns = ", ".join(f'"{c}"' for c in rows.column_names)
            con.execute(f"insert into {table} ({columns}) select {columns} from _rcflow_rows")
        finally:
            con.unregister("_rcflow_rows")
        return rows.num_rows


def snapshot_path_for(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


def publish_snapshot(warehouse: Path) -> Path:
    """Copy the (closed, checkpointed) warehouse to its snapshot path atomically."""
    target = snapshot_path_for(warehouse)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(warehouse, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def open_reader(
    warehouse: Path | str, *, live: bool = False, timeout: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """A read-only connection for queries: the snapshot by default, the live file with ``live``."""
    warehouse = Path(warehouse)
    path = warehouse if live else snapshot_path_for(warehouse)
    if not path.exists():
        if not warehouse.exists():
            raise FileNotFoundError(f"no warehouse at {warehouse}: run `rcflow sync` first")
        with Warehouse(warehouse):
            pass  # creates the schema and publishes the first snapshot
    return connect_with_retry(path, read_only=True, timeout=timeout)
