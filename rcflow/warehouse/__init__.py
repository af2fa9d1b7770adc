"""The DuckDB warehouse: schema migrations, the single-writer connection, bulk writes, snapshots."""

from rcflow.warehouse.db import (
    NoSnapshot,
    Warehouse,
    WarehouseBusy,
    migrate,
    open_reader,
    publish_snapshot,
    snapshot_path_for,
)
from rcflow.warehouse.failures import Storage, StorageFailure

__all__ = [
    "NoSnapshot",
    "Storage",
    "StorageFailure",
    "Warehouse",
    "WarehouseBusy",
    "migrate",
    "open_reader",
    "publish_snapshot",
    "snapshot_path_for",
]
