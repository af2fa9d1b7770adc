"""Readers never become writers: with the snapshot deleted, `rcflow sql` and `status` neither
migrate nor wait for the sync; they copy the live file read-only, or say at once that a writer
holds it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from run_support import digest, one_line
from typer.testing import CliRunner

from rcflow.cli.common import EXIT_BUSY
from rcflow.cli.main import app
from rcflow.warehouse import Warehouse, attached_for_reading, snapshot_path_for


@pytest.fixture
def rcflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """`rcflow …` in this process (no writer of ours is open: DuckDB locks per process)."""
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("RCFLOW_LOCK_TIMEOUT", "600")

    def invoke(*args: str):
        return CliRunner().invoke(app, list(args), catch_exceptions=False)

    return invoke


def make_warehouse(path: Path) -> None:
    with Warehouse(path) as wh, wh.transaction() as con:
        con.execute(
            "insert into ops.runs (run_id, kind, started_at, status) values ('sync-1', 'sync', now(), 'ok')"
        )


def test_without_a_snapshot_readers_copy_the_live_file_read_only(tmp_path: Path, rcflow) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    snapshot = snapshot_path_for(warehouse)
    snapshot.unlink(missing_ok=True)
    before = digest(warehouse)
    query = rcflow("sql", "select run_id from ops.runs", "--format", "csv")
    assert query.exit_code == 0, query.output
    assert query.stdout.split() == ["run_id", "sync-1"]
    assert snapshot.exists() and digest(warehouse) == before  # the live file was only read
    snapshot.unlink(missing_ok=True)
    status = rcflow("status", "--json")
    assert status.exit_code == 0 and '"sync-1"' in status.stdout
    assert digest(warehouse) == before


def test_without_a_snapshot_a_held_warehouse_is_one_line_at_once(tmp_path: Path, rcflow) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    snapshot_path_for(warehouse).unlink(missing_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time, duckdb
            con = duckdb.connect({str(warehouse)!r})
            print("holding", flush=True)
            time.sleep(120)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        for command in (["sql", "select 1"], ["status"]):
            started = time.monotonic()
            result = rcflow(*command)
            assert time.monotonic() - started < 10  # not the 600 s a writer would wait
            assert result.exit_code == EXIT_BUSY, result.output
            line = one_line(result.stderr)
            assert f"no snapshot at {snapshot_path_for(warehouse)}" in line and "writer holds" in line
        assert not snapshot_path_for(warehouse).exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_first_snapshot_includes_what_a_killed_writer_left_in_its_log(tmp_path: Path, rcflow) -> None:
    """A writer killed before its checkpoint leaves a WAL: the snapshot still shows its commits."""
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    snapshot_path_for(warehouse).unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, duckdb
            con = duckdb.connect({str(warehouse)!r})
            con.execute("insert into ops.runs (run_id, kind, started_at, status)"
                        " values ('push-2', 'push', now(), 'running')")
            os._exit(0)
        """)],
        check=True,
    )  # fmt: skip
    assert warehouse.with_name(warehouse.name + ".wal").exists()
    result = rcflow("sql", "select count(*) as n from ops.runs", "-f", "csv")
    assert result.exit_code == 0 and result.stdout.split() == ["n", "2"], result.output
    con = duckdb.connect(str(snapshot_path_for(warehouse)), read_only=True)
    assert con.execute("select count(*) from ops.runs").fetchall() == [(2,)]
    con.close()


def _hold_for_writing(warehouse: Path, row: str) -> subprocess.Popen:
    """Another process holding the live file for writing, with a run the snapshot does not have."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time, duckdb
            con = duckdb.connect({str(warehouse)!r})
            con.execute("insert into ops.runs (run_id, kind, started_at, status)"
                        " values ({row!r}, 'sync', now(), 'ok')")
            print("holding", flush=True)
            time.sleep(120)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_a_short_read_attaches_the_live_file_without_copying_it(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    with Warehouse(warehouse) as wh, wh.transaction() as con:  # the snapshot is stale now
        con.execute(
            "insert into ops.runs (run_id, kind, started_at, status) values ('sync-2', 'sync', now(), 'ok')"
        )
    snapshot = snapshot_path_for(warehouse)
    published = snapshot.stat().st_mtime_ns
    db = duckdb.connect(":memory:")
    with attached_for_reading(db, "wh", warehouse) as attached:
        assert attached == warehouse
        assert db.execute("select count(*) from wh.ops.runs").fetchall() == [(2,)]
    assert snapshot.stat().st_mtime_ns == published  # no copy was made
    attached_now = "select count(*) from duckdb_databases() where database_name = 'wh'"
    assert db.execute(attached_now).fetchall() == [(0,)]  # detached after the block
    db.close()


def test_a_short_read_takes_the_snapshot_at_once_while_a_writer_holds_the_live_file(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    holder = _hold_for_writing(warehouse, "sync-held")
    try:
        db = duckdb.connect(":memory:")
        started = time.monotonic()
        with attached_for_reading(db, "wh", warehouse) as attached:
            assert time.monotonic() - started < 10
            assert attached == snapshot_path_for(warehouse)
            assert db.execute("select run_id from wh.ops.runs").fetchall() == [("sync-1",)]
        db.close()
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_that_starts_during_a_short_read_waits_for_it(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    make_warehouse(warehouse)
    db = duckdb.connect(":memory:")
    with attached_for_reading(db, "wh", warehouse):
        writer = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(f"""
                from rcflow.warehouse import Warehouse
                with Warehouse({str(warehouse)!r}, lock_timeout=60) as wh, wh.transaction() as con:
                    con.execute("insert into ops.runs (run_id, kind, started_at, status)"
                                " values ('push-1', 'push', now(), 'ok')")
            """)],
        )  # fmt: skip
        time.sleep(1.5)
        assert writer.poll() is None  # waiting for the read, not failing
        assert db.execute("select count(*) from wh.ops.runs").fetchall() == [(1,)]
    db.close()
    assert writer.wait(timeout=60) == 0
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select count(*) from ops.runs").fetchall() == [(2,)]
    con.close()
