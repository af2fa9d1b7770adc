"""Opening the warehouse safely.

DuckDB allows one writing process per file. rcflow's rule:

* writers (sync, push, check, import) open ``warehouse.duckdb`` through :class:`Warehouse`,
  waiting (bounded) while another writer holds it;
* readers (``rcflow sql``, dashboards, dbt, the checks) open the *snapshot*, a read-only copy
  of the live file, so a reader never blocks a writer and a writer never breaks a reader. A
  reader never becomes a writer: without a snapshot it copies the live file under a read-only
  connection (which keeps writers out meanwhile), or, when a writer holds it, says so in one
  line (:class:`NoSnapshot`).

Publishing is lazy, once per run rather than once per writer session: a writer session that
ends soundly only marks the snapshot *stale* (a one-word state file beside the warehouse; the
very first session publishes at once, so a reader never finds no snapshot after one); the next
reader (:func:`fresh_snapshot`, :func:`open_reader`) copies the live file once, under a
read-only connection, when no writer holds it (else it reads the last snapshot: it never
waits). The checks, a short read, attach the live file itself when no writer holds it
(:func:`attached_for_reading`: no copy; a writer that starts meanwhile waits for them, within its
lock timeout). A pipeline run (sync, check, push, report) thus copies the warehouse once, when
its report reads it, not after each of its writer sessions.

A writer session that ends in a database or storage error, or never ends (a killed process),
does not make the snapshot stale: the last good snapshot stays until a sound session follows.
Its exception is re-raised as the first cause found in the chain
(:class:`~rcflow.warehouse.failures.StorageFailure`: full disk, read-only, corrupt file).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from rcflow.warehouse.failures import chain, storage_failure

LOCK_RETRY_SECONDS = 0.25
CACHED_BLOCKS_KEPT = 4 * 1024 * 1024  # bytes of cached table blocks a long write may keep
log = logging.getLogger("rcflow.warehouse")


DEFAULT_LOCK_TIMEOUT = 600.0  # seconds a writer waits for another (RCFLOW_LOCK_TIMEOUT's default)

class WarehouseBusy(Exception):
    """Another process holds the warehouse for writing longer than we were willing to wait."""


class NoSnapshot(WarehouseBusy):
    """There is no snapshot to read, and a writer holds the live file (a reader never waits)."""


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


def _define(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the shared SQL definitions (macros) that views and reports call."""
    definitions = resources.files("rcflow.warehouse") / "migrations" / "definitions.sql"
    con.execute(definitions.read_text(encoding="utf-8"))


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending versioned migrations in order; returns the names applied."""
    con.execute(
        "create table if not exists main.schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    done = {row[0] for row in con.execute("select version from main.schema_migrations").fetchall()}
    _define(con)
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


# The snapshot's state file (``warehouse.duckdb.snapshot-state``), one word:
OPEN = "open"  # a writer session is running, or died: nothing of it may be published yet
STALE = "stale"  # sound sessions ended since the last publish: the next reader publishes
UNSOUND = "unsound"  # a session ended in a database or storage error: keep the last snapshot
CURRENT = "current"  # the snapshot is the live file as the last sound session left it


def _state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".snapshot-state")


def snapshot_state(warehouse: Path) -> str | None:
    """The snapshot's state (None: never recorded, a warehouse from before lazy publishing)."""
    try:
        return _state_path(warehouse).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def _set_state(warehouse: Path, state: str) -> None:
    path = _state_path(warehouse)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(state, encoding="ascii")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


class Warehouse:
    """The writer's handle on the warehouse. Use as a context manager.

    On a clean exit the connection is checkpointed and closed, and the reader snapshot marked
    stale (the next reader republishes it; ``publish=False``: left as it is). "Clean" means the
    session did not end in a database or storage error: a run that was interrupted or that the
    hub failed still publishes (its ``ops.runs`` row is written); a corrupt file or a full disk
    never replaces the last good snapshot.
    """

    def __init__(self, path: Path | str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, publish: bool = True):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.publish = publish
        self._con: duckdb.DuckDBPyConnection | None = None
        # One connection, used from the event loop and from threads (``asyncio.to_thread``): a
        # transaction holds this lock, so an interrupted run's bookkeeping waits for a write a
        # thread has in flight instead of interleaving with it.
        self._lock = threading.RLock()

    def __enter__(self) -> Warehouse:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = connect_with_retry(self.path, read_only=False, timeout=self.lock_timeout)
            migrate(self._con)
            if self.publish:
                _set_state(self.path, OPEN)
        except Exception as exc:
            if self._con is not None:
                with contextlib.suppress(duckdb.Error):
                    self._con.close()
                self._con = None
            failure = storage_failure(exc, database=self.path)
            if failure is None:
                raise
            raise failure from exc
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        with self._lock:  # after any write a thread has in flight
            con, self._con = self._con, None
            if con is None:
                return
            sound = exc is None or not _harms_database(exc, self.path)
            closing_error = _checkpoint_and_close(con)
        if closing_error is not None:
            if exc is None:  # the checkpoint's failure is this session's first error
                failure = storage_failure(closing_error, database=self.path)
                if failure is None:
                    raise closing_error
                raise failure from closing_error
            log.debug("checkpoint after a failed session also failed", exc_info=closing_error)
            sound = False
        try:
            if not sound:
                _set_state(self.path, UNSOUND)
            elif self.publish:
                _set_state(self.path, STALE)
        except OSError as marking:
            if exc is None:  # the session's work is committed, but readers would not see it
                failure = storage_failure(marking, database=self.path)
                raise (failure or marking) from marking
            log.debug("could not record the snapshot's state after a failed session", exc_info=marking)
        if sound and self.publish and not snapshot_path_for(self.path).exists():
            publish_snapshot(self.path)  # the first one at once: readers never start without one
            _set_state(self.path, CURRENT)
        if exc is not None and isinstance(exc, Exception):
            failure = storage_failure(exc, database=self.path)
            if failure is not None and failure is not exc:
                raise failure from exc

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError("Warehouse is not open; use it as a context manager")
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One short write transaction: everything in it commits together or not at all."""
        with self._lock:
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
        with self._lock:
            return self.con.execute(sql, params or []).fetchall()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection for reads by a read-model function, with no write of a thread meanwhile."""
        with self._lock:
            self.con.complete()
            yield self.con

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return the rows as one Arrow table (no DB-API copy)."""
        with self._lock:
            self.con.complete()
            return self.con.sql(sql).to_arrow_table()

    def _register(self, name: str, table: pa.Table) -> None:
        self.con.complete()  # finish any half-read result first (DuckDB 2.0 refuses otherwise)
        self.con.register(name, table)

    @contextmanager
    def registered(self, name: str, table: pa.Table) -> Iterator[str]:
        """Expose an Arrow table to SQL as ``name`` for the duration of the block."""
        with self._lock:
            self._register(name, table)
            try:
                yield name
            finally:
                self.con.unregister(name)

    def scanning(
        self, sql: str, rows: pa.Table, params: Sequence[object] | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Run ``sql``, in which ``_rcflow_rows`` names the Arrow table ``rows``.

        DuckDB reads ``rows`` through its replacement scan of this frame's local of that name:
        no view is registered and dropped, which cost about 1 ms of CPU per statement, a fifth
        of a commit's (measured). A table or view of that name would take precedence: none is
        ever created."""
        _rcflow_rows = rows  # noqa: F841 (read by DuckDB's replacement scan)
        con = self.con
        con.complete()  # finish any half-read result first (DuckDB 2.0 refuses otherwise)
        return con.execute(sql, params or [])

    def upsert(self, table: str, rows: pa.Table, key: list[str], *, keep: Sequence[str] = ()) -> int:
        """Insert-or-update ``rows`` (Arrow) into ``table`` keyed on ``key``, in bulk.

        Columns named in ``keep`` are written on insert but never overwritten on update.
        """
        if rows.num_rows == 0:
            return 0
        columns = ", ".join(f'"{c}"' for c in rows.column_names)
        conflict = ", ".join(f'"{c}"' for c in key)
        updates = ", ".join(
            f'"{c}" = excluded."{c}"' for c in rows.column_names if c not in key and c not in keep
        )
        action = f"do update set {updates}" if updates else "do nothing"
        self.scanning(
            f"insert into {table} ({columns}) select {columns} from _rcflow_rows "
            f"on conflict ({conflict}) {action}",
            rows,
        )
        return rows.num_rows

    def replace_for(self, table: str, rows: pa.Table, ids: Sequence[str], column: str) -> int:
        """Replace every row of ``table`` whose ``column`` is in ``ids`` with ``rows``."""
        if ids:
            self.scanning(
                f'delete from {table} where "{column}" in (select id from _rcflow_rows)',
                pa.table({"id": pa.array(list(ids), pa.string())}),
            )
        return self.append(table, rows)

    def append(self, table: str, rows: pa.Table) -> int:
        """Append ``rows`` (Arrow) to ``table`` in bulk."""
        if rows.num_rows == 0:
            return 0
        columns = ", ".join(f'"{c}"' for c in rows.column_names)
        self.scanning(f"insert into {table} ({columns}) select {columns} from _rcflow_rows", rows)
        return rows.num_rows

    def release_cached_blocks(self, *, above: int = CACHED_BLOCKS_KEPT) -> int:
        """Evict the table blocks DuckDB keeps cached once they exceed ``above`` bytes; returns
        the bytes released.

        DuckDB keeps each table block it stores or reads cached up to its ``memory_limit`` (80 %
        of the RAM by default) and has no setting for that cache alone: a sync's memory grew with
        its queue (``bench/HISTORY.md``, seventh round; a 10,000-invoice sync ended with 12.5 MB
        of them, a backfill of a million would keep a gigabyte). A low limit would bound them but
        fails a large warehouse's index look-ups. So the limit is lowered for an instant to what
        DuckDB holds besides them, which makes it drop the checkpointed ones (they are on disk:
        nothing is written), and put back. Blocks not checkpointed yet cannot go: when DuckDB
        cannot reach the lower limit, nothing changes. Under the connection's lock, so no
        statement of this warehouse runs meanwhile.
        """
        with self._lock:
            con = self.con
            con.complete()
            total, cached = con.execute(_CACHED_BLOCKS).fetchone()
            if cached <= above:
                return 0
            limit = _memory_limit(con)
            try:
                con.execute(f"set memory_limit = '{total - cached + above}B'")
            except duckdb.Error as exc:  # could not evict that much: nothing changed
                log.debug("cached blocks kept: %s", exc)
            finally:
                # DuckDB's own limit back exactly (it shows a rounded figure), else the one shown
                con.execute("reset memory_limit")
                if _memory_limit(con) != limit:
                    con.execute(f"set memory_limit = '{limit}'")
            return cached - con.execute(_CACHED_BLOCKS).fetchone()[1]


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


# DuckDB's memory in use, and the part that is cached table blocks (its BASE_TABLE tag).
_CACHED_BLOCKS = (
    "select coalesce(sum(memory_usage_bytes), 0),"
    " coalesce(sum(memory_usage_bytes) filter (where tag = 'BASE_TABLE'), 0) from duckdb_memory()"
)


def _checkpoint_and_close(con: duckdb.DuckDBPyConnection) -> duckdb.Error | None:
    try:
        con.execute("checkpoint")
    except duckdb.Error as exc:
        with contextlib.suppress(duckdb.Error):
            con.close()
        return exc
    con.close()
    return None


def _harms_database(exc: BaseException, path: Path) -> bool:
    """Did the session end in an error that may leave the database unsound?"""
    if storage_failure(exc, database=path) is not None:
        return True
    return any(isinstance(error, duckdb.Error) for error in chain(exc))


def snapshot_path_for(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


def publish_snapshot(warehouse: Path) -> Path:
    """Copy the (closed, checkpointed) warehouse to its snapshot path atomically.

    The copy is opened once before it replaces the old snapshot; a failed copy (a full disk)
    leaves no temporary file behind and the old snapshot in place.
    """
    target = snapshot_path_for(warehouse)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(warehouse, tmp)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():  # a writer died before its checkpoint: replay its log into our copy only
            shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
            with duckdb.connect(str(tmp)) as con:
                con.execute("checkpoint")
        with duckdb.connect(str(tmp), read_only=True) as con:
            con.execute("select count(*) from main.schema_migrations").fetchall()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        failure = storage_failure(exc, database=warehouse) if isinstance(exc, Exception) else None
        if failure is None:
            raise
        raise failure from exc
    return target


def open_reader(
    warehouse: Path | str, *, live: bool = False, timeout: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """A read-only connection for queries: the snapshot by default, the live file with ``live``.

    Without a snapshot (deleted, or never published), the snapshot is made from the live file
    under a read-only connection if no writer holds it; otherwise :class:`NoSnapshot` says so at
    once. A reader never opens the writer, never migrates, never waits for a sync.
    """
    warehouse = Path(warehouse)
    path = warehouse if live else fresh_snapshot(warehouse)
    return _read_only(path, timeout=timeout)


def fresh_snapshot(warehouse: Path | str) -> Path:
    """The snapshot's path, published first if sound sessions ended since the last publish.

    Without a snapshot, the live file is copied (or :class:`NoSnapshot` raised while a writer
    holds it). A stale snapshot is republished when no writer holds the live file; while one
    does, the last snapshot is returned as it is (a reader never waits).
    """
    warehouse = Path(warehouse)
    snapshot = snapshot_path_for(warehouse)
    if not snapshot.exists():
        if not warehouse.exists():
            raise FileNotFoundError(f"no warehouse at {warehouse}: run `rcflow sync` first")
        _publish_from_live(warehouse)
    elif snapshot_state(warehouse) == STALE:
        try:
            guard = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                return snapshot  # a writer holds it: the last snapshot, published when it ends
            failure = storage_failure(exc, database=warehouse)
            raise (failure or exc) from exc
        try:
            if snapshot_state(warehouse) == STALE:  # no writer can start while we hold the guard
                publish_snapshot(warehouse)
                _set_state(warehouse, CURRENT)
        finally:
            guard.close()
    return snapshot


@contextmanager
def attached_for_reading(db: duckdb.DuckDBPyConnection, alias: str, warehouse: Path | str) -> Iterator[Path]:
    """``warehouse`` attached read-only to ``db`` as ``alias`` for a short read; yields what was attached.

    The live file itself when no writer holds it and no writer left a log to replay: no copy,
    and writers that start meanwhile wait (within their lock timeout) until the block ends.
    Otherwise the freshest snapshot (:func:`fresh_snapshot`): a reader never waits for a writer.
    """
    warehouse = Path(warehouse)
    attached = None
    if warehouse.exists() and not warehouse.with_name(warehouse.name + ".wal").exists():
        try:
            _attach(db, alias, warehouse)
            attached = warehouse
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                failure = storage_failure(exc, database=warehouse)
                raise (failure or exc) from exc
    if attached is None:
        attached = fresh_snapshot(warehouse)
        _attach(db, alias, attached)
    try:
        yield attached
    finally:
        with contextlib.suppress(duckdb.Error):
            db.execute(f"detach {alias}")


def _attach(db: duckdb.DuckDBPyConnection, alias: str, path: Path) -> None:
    literal = str(path).replace("'", "''")
    db.execute(f"attach '{literal}' as {alias} (read_only)")


def _read_only(path: Path, *, timeout: float) -> duckdb.DuckDBPyConnection:
    try:
        return connect_with_retry(path, read_only=True, timeout=timeout)
    except duckdb.Error as exc:
        failure = storage_failure(exc, database=path)
        if failure is None:
            raise
        raise failure from exc


def _publish_from_live(warehouse: Path) -> None:
    """Publish a first snapshot from the live file while holding it read-only (no writer meanwhile)."""
    snapshot = snapshot_path_for(warehouse)
    try:
        guard = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if not _is_lock_error(exc):
            failure = storage_failure(exc, database=warehouse)
            raise (failure or exc) from exc
        raise NoSnapshot(
            f"no snapshot at {snapshot}, and a writer holds {warehouse} now: the snapshot is "
            "published when that run ends; retry then (`--live` reads the live file when no writer holds it)"
        ) from None
    try:
        publish_snapshot(warehouse)
        if snapshot_state(warehouse) == STALE:
            _set_state(warehouse, CURRENT)
    finally:
        guard.close()
