"""The warehouse: versioned migrations, bulk upserts, and readers that never fight the writer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from rcflow.warehouse import Warehouse, WarehouseBusy, open_reader, snapshot_path_for
from rcflow.warehouse.db import snapshot_state

MIGRATIONS = Path(__file__).parents[2] / "rcflow" / "warehouse" / "migrations"

TS = pa.timestamp("us", tz="UTC")


def entities(*pairs: tuple[str, str]) -> pa.Table:
    return pa.table(
        {
            "entity_nif": [p[0] for p in pairs],
            "entity_name": [p[1] for p in pairs],
            "fetched_at": pa.array([0] * len(pairs), TS),
        }
    )


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        versions = wh.con.execute("select version from schema_migrations order by 1").fetchall()
    with Warehouse(path) as wh:
        again = wh.con.execute("select version from schema_migrations order by 1").fetchall()
    every_file = sorted(int(p.name[:3]) for p in MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql"))
    assert versions == again and [v[0] for v in versions] == every_file  # numbers may skip, never repeat
    assert len(set(every_file)) == len(every_file)


def test_a_warehouse_of_an_older_version_is_migrated_with_its_rows(tmp_path: Path) -> None:
    """003 on a version-2 warehouse: quality results keep their rows, the suite version split out."""
    import duckdb

    from rcflow.warehouse.db import _define, _migrations

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "create table main.schema_migrations ("
        " version integer primary key, name varchar not null, applied_at timestamptz not null)"
    )
    _define(con)  # 002's views call the shared macro (older 002 texts spelled it out)
    for version, name, sql in _migrations()[:2]:
        con.execute(sql)
        con.execute("insert into main.schema_migrations values (?, ?, now())", [version, name])
    con.execute(
        "insert into ops.quality_results (run_id, suite, expectation, success, blocking, checked_at)"
        " values ('old', 'invoices_suite@1', 'invoice_id_unique', true, true, now())"
    )
    con.close()
    with Warehouse(path) as wh:
        rows = wh.con.execute(
            "select suite, suite_version, expectation, severity from quality_results"
        ).fetchall()
    assert rows == [("invoices_suite", "1", "invoice_id_unique", None)]


def test_upsert_updates_but_keeps_named_columns(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "w.duckdb") as wh:
        wh.upsert("raw.entities", entities(("A", "first"), ("B", "b")), ["entity_nif"])
        wh.upsert("raw.entities", entities(("A", "second")), ["entity_nif"], keep=["entity_name"])
        wh.upsert("raw.entities", entities(("B", "b2")), ["entity_nif"])
        rows = wh.con.execute("select entity_nif, entity_name from raw.entities order by 1").fetchall()
    assert rows == [("A", "first"), ("B", "b2")]


def _cached_table_blocks(wh: Warehouse) -> int:
    return wh.fetch("select memory_usage_bytes from duckdb_memory() where tag = 'BASE_TABLE'")[0][0]


def test_cached_table_blocks_are_released_and_the_rows_and_limit_stay(tmp_path: Path) -> None:
    """DuckDB keeps every block it stores cached up to its memory limit: without the release a
    writer's memory grows with what it wrote; with it, the cache stays under its bound."""
    mib = 1024 * 1024
    with Warehouse(tmp_path / "w.duckdb") as wh:
        limit = wh.fetch("select current_setting('memory_limit')")[0][0]
        for batch in range(12):  # ~6 MiB of stored blocks, each batch checkpointed
            ids = [f"P{batch:02d}{i:06d}A" for i in range(20_000)]
            wh.append("raw.entities", entities(*((n, f"entity {n} " + "x" * 40) for n in ids)))
            wh.con.execute("checkpoint")
        kept = _cached_table_blocks(wh)
        assert kept > 4 * mib  # what DuckDB keeps on its own
        assert wh.release_cached_blocks(above=kept) == 0  # under the bound: nothing to do
        released = wh.release_cached_blocks(above=mib)
        assert released > 3 * mib and _cached_table_blocks(wh) <= mib
        assert wh.fetch("select current_setting('memory_limit')")[0][0] == limit
        assert wh.fetch("select count(*), count(distinct entity_nif) from raw.entities")[0] == (240_000,) * 2
        name = wh.fetch("select entity_name from raw.entities where entity_nif = 'P07000123A'")[0][0]
        assert name.startswith("entity P07000123A")


def test_snapshot_is_published_and_readers_see_views(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    assert snapshot_path_for(path).exists()  # the first session publishes at once
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("B", "y")), ["entity_nif"])
    assert snapshot_state(path) == "stale"  # later ones leave it to the next reader
    con = open_reader(path)
    assert con.execute("select entity_nif from entities order by 1").fetchall() == [("A",), ("B",)]
    con.close()
    assert snapshot_state(path) == "current"


HOLD_WRITER = textwrap.dedent(
    """
    import sys, time
    from rcflow.warehouse import Warehouse
    with Warehouse(sys.argv[1]) as wh:
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold_writer(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_reader_works_while_a_writer_runs(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    proc = _hold_writer(path, 3)
    try:
        con = open_reader(path, timeout=1)
        assert con.execute("select count(*) from invoices").fetchone() == (0,)
        con.close()
    finally:
        proc.wait(10)


def test_writer_waits_for_another_writer_then_proceeds(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path):
        pass
    proc = _hold_writer(path, 1.5)
    started = time.monotonic()
    with Warehouse(path, lock_timeout=30) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    assert time.monotonic() - started >= 0.5
    proc.wait(10)


def test_writer_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path):
        pass
    proc = _hold_writer(path, 4)
    try:
        with pytest.raises(WarehouseBusy, match="held by another writer"), Warehouse(path, lock_timeout=0.5):
            pass
    finally:
        proc.wait(10)


def test_open_reader_does_not_block_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    reader = open_reader(path)  # held open during the whole write
    with Warehouse(path, lock_timeout=2) as wh:
        wh.upsert("raw.entities", entities(("B", "y")), ["entity_nif"])
    assert reader.execute("select count(*) from entities").fetchone() == (1,)  # its snapshot
    reader.close()
    fresh = open_reader(path)
    assert fresh.execute("select count(*) from entities").fetchone() == (2,)
    fresh.close()


def _snapshot_entities(path: Path) -> list[tuple]:
    con = open_reader(path)
    try:
        return con.execute("select entity_nif from entities order by 1").fetchall()
    finally:
        con.close()


def test_a_session_ending_in_a_database_error_keeps_the_last_snapshot(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    with pytest.raises(duckdb.Error), Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("B", "y")), ["entity_nif"])
        wh.fetch("select * from raw.no_such_table")
    assert _snapshot_entities(path) == [("A",)]  # B is committed in the live file, not published


def test_an_interrupted_or_hub_failed_session_still_publishes(tmp_path: Path) -> None:
    """The database is sound after an interruption: the snapshot shows the run's record."""
    path = tmp_path / "w.duckdb"
    with pytest.raises(KeyboardInterrupt), Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
        raise KeyboardInterrupt
    with pytest.raises(RuntimeError), Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("B", "y")), ["entity_nif"])
        raise RuntimeError("the hub went away")
    assert _snapshot_entities(path) == [("A",), ("B",)]


def test_the_first_cause_is_found_under_what_followed_it(tmp_path: Path) -> None:
    """A checksum error, then "transaction aborted" while cleaning up: the checksum is the cause."""
    import duckdb

    from rcflow.warehouse import Storage, StorageFailure
    from rcflow.warehouse.failures import storage_failure

    path = tmp_path / "w.duckdb"
    try:
        try:
            raise duckdb.Error("Corrupt database file: computed checksum 1 does not match stored checksum 2")
        finally:
            raise duckdb.TransactionException("Current transaction is aborted (please ROLLBACK)")
    except duckdb.Error as exc:
        found = storage_failure(exc, database=path)
    assert isinstance(found, StorageFailure) and found.kind is Storage.corrupt and found.path == path
    assert str(found).startswith(f"corrupt database file {path} (computed checksum 1 does not match")
    full = OSError(28, "No space left on device")
    assert storage_failure(full, database=path).kind is Storage.disk_full  # type: ignore[union-attr]
    assert storage_failure(PermissionError(13, "Permission denied", "/etc/input.csv"), database=path) is None


def test_a_failed_snapshot_copy_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import shutil

    import duckdb

    from rcflow.warehouse import Storage, StorageFailure

    path = tmp_path / "w.duckdb"
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("A", "x")), ["entity_nif"])
    real_copy = shutil.copyfile

    def copy_then_fill(src: object, dst: object) -> object:
        real_copy(src, dst)  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    assert _snapshot_entities(path) == [("A",)]
    with Warehouse(path) as wh:
        wh.upsert("raw.entities", entities(("B", "y")), ["entity_nif"])
    monkeypatch.setattr(shutil, "copyfile", copy_then_fill)
    with pytest.raises(StorageFailure) as info:  # the reader that republishes says why it cannot
        _snapshot_entities(path)
    assert info.value.kind is Storage.disk_full
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "w.duckdb", "w.duckdb.snapshot-state", "w.snapshot.duckdb"]  # fmt: skip
    with duckdb.connect(str(snapshot_path_for(path)), read_only=True) as con:  # the last snapshot
        assert con.execute("select entity_nif from raw.entities").fetchall() == [("A",)]
    assert _snapshot_entities(path) == [("A",), ("B",)]  # published once the disk has room
