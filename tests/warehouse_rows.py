"""Test helper: a batch of invoice and attachment rows through the sync's writer, nothing else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pyarrow as pa

from rcflow.warehouse import Warehouse, raw
from rcflow.warehouse.raw import FACTURAE_TABLES, rows_table


def store_batch(
    wh: Warehouse,
    ids: Sequence[str],
    *,
    invoices: Sequence[Mapping[str, object]],
    attachments: Sequence[Mapping[str, object]],
    now: datetime,
) -> set[str]:
    """``raw.store_invoices`` with these invoices and attachments and no states, Facturae rows,
    mismatches or quarantine: the ids it stored as new."""
    return raw.store_invoices(
        wh,
        list(ids),
        invoices=rows_table("raw.invoices", invoices),
        states=rows_table("raw.invoice_states", []),
        attachments=rows_table("raw.attachments", attachments),
        facturae={name: rows_table(name, []) for name in FACTURAE_TABLES},
        mismatches=rows_table("raw.facturae_mismatches", []),
        quarantined=pa.table({c: pa.array([], pa.string()) for c in ("invoice_id", "reason", "detail")}),
        now=now,
    )
