"""Broken storage, told as its cause: a full disk (a real small tmpfs), a read-only file system,
a corrupt warehouse file. Each ends with one line, its own exit code, nothing acknowledged that is
not stored, and the last good snapshot kept."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr
from run_support import (
    ISSUER,
    SECRET,
    digest,
    one_line,
    patches,
    rcflow_env,
    remount,
    rows,
    run_rcflow,
    runs,
    simulator,
    small_filesystem,
)

from rcflow.cli.common import EXIT_CORRUPT, EXIT_DISK_FULL, EXIT_NOT_WRITABLE
from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.store import BlobStore
from rcflow.warehouse import fresh_snapshot
from rcflow.warehouse.failures import storage_failure


def settings_for(sim: RunningSimulator, warehouse: Path, workers: int = 1) -> Settings:
    return load_settings(
        hub_url=sim.base_url, issuer=ISSUER, secret=SecretStr(SECRET), warehouse=warehouse, workers=workers
    )


def assert_nothing_lost(sim: RunningSimulator, warehouse: Path) -> None:
    """Every invoice the hub saw acknowledged is in the warehouse with its Facturae blob."""
    stored = dict(rows(warehouse, "select invoice_id, xml_sha256 from raw.invoices"))
    store = BlobStore(warehouse.parent / "store")
    for invoice_id, _ in patches(sim, "DELIVERED"):
        assert invoice_id in stored and store.has(stored[invoice_id]), invoice_id


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp") and p.is_file()]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_during_the_sync(tmp_path: Path, workers: int) -> None:
    """The blob store or the database hits ENOSPC (in the sync or in a download worker)."""
    with simulator(invoices=150) as sim, small_filesystem(tmp_path / "disk", "2m") as disk:
        warehouse = disk / "warehouse.duckdb"
        result = run_rcflow(rcflow_env(sim, warehouse, RCFLOW_WORKERS=str(workers)), "sync")
        assert result.returncode == EXIT_DISK_FULL, result.stderr
        line = one_line(result.stderr)  # no "Task exception was never retrieved", no FatalException
        assert line.startswith(f"rcflow: disk full: cannot write {disk}") and "free space" in line
        assert not warehouse.with_name("warehouse.snapshot.duckdb").exists()
        assert len(patches(sim, "DELIVERED")) < 150
        remount(disk, "size=64m")  # space freed
        assert_nothing_lost(sim, warehouse)
        summary = asyncio.run(run_sync(settings_for(sim, warehouse, workers)))
        assert summary.ok and len(patches(sim, "DELIVERED")) == 150
        assert_nothing_lost(sim, warehouse)
        (_, _, first, record), (_, _, second, _) = runs(warehouse)
        # The failed run is recorded as failed with its cause, or, when even that could not be
        # written, closed as abandoned by the next run: never left "running", never "ok".
        assert (first, second) in {("failed", "ok"), ("abandoned", "ok")}
        assert "disk full" in record.get("error", "") or "full disk" in record.get("reason", "")
        assert not leftovers(disk)


def test_a_full_disk_while_publishing_keeps_the_last_snapshot(tmp_path: Path) -> None:
    with simulator(invoices=30) as sim, small_filesystem(tmp_path / "disk", "64m") as disk:
        warehouse = disk / "warehouse.duckdb"
        env = rcflow_env(sim, warehouse)
        assert run_rcflow(env, "sync").returncode == 0
        snapshot = fresh_snapshot(warehouse)
        before = digest(snapshot)
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler = disk / "filler"  # leave less room than a copy of the warehouse needs
        filler.write_bytes(b"\0" * (free - warehouse.stat().st_size // 2))
        assert run_rcflow(env, "push").returncode == 0  # a writer no longer copies the warehouse
        result = run_rcflow(env, "status")  # the reader that republishes the snapshot
        assert result.returncode == EXIT_DISK_FULL, result.stderr
        assert one_line(result.stderr).startswith("rcflow: disk full: cannot write")
        assert digest(snapshot) == before and not leftovers(disk)
        filler.unlink()
        assert [r[2] for r in runs(warehouse)] == ["ok", "ok"]  # the push itself was done


def test_a_read_only_file_system(tmp_path: Path) -> None:
    with simulator(invoices=20) as sim, small_filesystem(tmp_path / "disk", "64m") as disk:
        warehouse = disk / "warehouse.duckdb"
        env = rcflow_env(sim, warehouse)
        assert run_rcflow(env, "sync").returncode == 0
        fresh_snapshot(warehouse)  # a reader published the sync's snapshot
        sim.reset(sim.config.with_(seed=12))
        remount(disk, "ro")
        result = run_rcflow(env, "sync")
        assert result.returncode == EXIT_NOT_WRITABLE, result.stderr
        line = one_line(result.stderr)
        assert line.startswith(f"rcflow: cannot write {warehouse}: read-only file system"), line
        assert not patches(sim, "DELIVERED")  # nothing acknowledged
        # Readers still read the last snapshot.
        query = run_rcflow(env, "sql", "select count(*) as n from invoices", "--format", "csv")
        assert query.returncode == 0 and query.stdout.split() == ["n", "20"]


def test_a_corrupt_warehouse_is_named_and_the_snapshot_kept(tmp_path: Path) -> None:
    with simulator(invoices=40) as sim:
        warehouse = tmp_path / "data" / "warehouse.duckdb"
        asyncio.run(run_sync(settings_for(sim, warehouse)))
        snapshot = fresh_snapshot(warehouse)
        before = digest(snapshot)
        size = warehouse.stat().st_size
        with open(warehouse, "r+b") as handle:  # garbage over every block past the header
            for offset in range(256 * 1024, size, 128 * 1024):
                handle.seek(offset)
                handle.write(os.urandom(4096))
        sim.reset(sim.config.with_(seed=12))
        env = rcflow_env(sim, warehouse)
        result = run_rcflow(env, "sync")
        assert result.returncode == EXIT_CORRUPT, result.stderr
        line = one_line(result.stderr)
        assert line.startswith(f"rcflow: corrupt database file {warehouse} (") and "backup" in line
        assert "TransactionException" not in line and "aborted" not in line
        assert digest(snapshot) == before  # never replaced by the failing writer
        assert not patches(sim, "DELIVERED")
        debug = run_rcflow({**env, "RCFLOW_DEBUG": "1"}, "sync")  # the full chain, on demand
        assert debug.returncode == EXIT_CORRUPT and "Traceback" in debug.stderr
        assert debug.stderr.strip().splitlines()[-1] == line
        assert digest(snapshot) == before
        query = run_rcflow(env, "sql", "select count(*) as n from invoices", "--format", "csv")
        assert query.returncode == 0 and query.stdout.split() == ["n", "40"]


def test_a_corrupt_snapshot_is_named(tmp_path: Path) -> None:
    with simulator(invoices=10) as sim:
        warehouse = tmp_path / "data" / "warehouse.duckdb"
        asyncio.run(run_sync(settings_for(sim, warehouse)))
        snapshot = warehouse.with_name("warehouse.snapshot.duckdb")
        snapshot.write_bytes(b"garbage" * 1000)
        result = run_rcflow(rcflow_env(sim, warehouse), "status")
        assert result.returncode == EXIT_CORRUPT, result.stderr
        line = one_line(result.stderr)
        assert f"corrupt database file {snapshot}" in line and "delete it" in line


@pytest.mark.parametrize("network", [
    ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
    ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
])  # fmt: skip
def test_a_connections_failure_is_never_a_storage_failure(tmp_path: Path, network: OSError) -> None:
    """A hub's TLS failure (errno 1, EPERM's number) surfacing through the warehouse's session
    was reported as "cannot write" the warehouse's folder, exit 6: it is the hub's error."""
    try:
        try:
            raise network
        except OSError:
            raise RuntimeError("GET ens: no answer from the hub") from None
    except RuntimeError as exc:
        assert storage_failure(exc, database=tmp_path / "w.duckdb") is None
