"""The DuckDB warehouse, and what it means.

Owns: the schema (``migrations/``) and each bulk-written table's contract (``tables``: Arrow
schema and keys beside the DDL); the single-writer connection and the read snapshot (``db``:
published lazily, once per read after writes; short reads attach the live file); every write
(``raw``: what a hub sent; ``outbox``: push intents, outcomes and audit; ``quality``: check
results; ``accounting``: the accounting import; ``quarantine``: findings and reviews; ``runs``:
``ops.runs``; ``signatures``; ``cancellations``: cancellation requests, the decisions answering
them, credit assignments); and the read models every consumer shares (``owed``:
``ops.owed_updates``, what the hub is owed; ``ops.quarantine_holds``; ``ops.open_cancellations``).

May import: the leaves only (``rcflow.clock``, ``rcflow.facturae``, pyarrow, duckdb); never a
connector, ``ingest``, ``push``, ``quality``, ``reports``, ``cli``, ``flows`` or ``tasks``.
"""

from rcflow.warehouse.db import (
    DEFAULT_LOCK_TIMEOUT,
    NoSnapshot,
    Warehouse,
    WarehouseBusy,
    attached_for_reading,
    fresh_snapshot,
    migrate,
    open_reader,
    publish_snapshot,
    snapshot_path_for,
)
from rcflow.warehouse.failures import Storage, StorageFailure

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "NoSnapshot",
    "Storage",
    "StorageFailure",
    "Warehouse",
    "WarehouseBusy",
    "attached_for_reading",
    "fresh_snapshot",
    "migrate",
    "open_reader",
    "publish_snapshot",
    "snapshot_path_for",
]
