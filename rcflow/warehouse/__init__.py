"""The DuckDB warehouse: schema migrations, the single-writer connection, bulk writes, snapshots."""

from rcflow.warehouse.db import (
    Warehouse,
    WarehouseBusy,
    migrate,
    open_reader,
    publish_snapshot,
    snapshot_path_for,
)

__all__ = [
    "Warehouse",
    "WarehouseBusy",
    "migrate",
    "open_reader",
    "publish_snapshot",
    "snapshot_path_for",
]
