"""A state refresh updates what the hub says now and keeps what only the download gave."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from rcflow.connectors.base import InvoiceRecord, StateRecord
from rcflow.ingest.load import store_refreshed
from rcflow.ingest.rows import INVOICE_SCHEMA, invoice_row
from rcflow.warehouse import Warehouse

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
T1 = datetime(2025, 3, 9, 9, tzinfo=UTC)


def test_a_refresh_keeps_the_stored_columns_its_record_leaves_empty(tmp_path: Path) -> None:
    downloaded = InvoiceRecord("face:1", '{"full": true}', invoice_number="F-1", amount_cents=12100,
                               supplier_nif="B1", hub_state="REGISTERED", reject_reason=None)  # fmt: skip
    refreshed = InvoiceRecord("face:1", '{"state only": true}', hub_state="RECEIVED", hub_state_at=T1)
    with Warehouse(tmp_path / "w.duckdb", publish=False) as wh:
        row = invoice_row(downloaded, xml_sha256="ab" * 32, source="pending", fetched_at=T0)
        wh.append("raw.invoices", pa.Table.from_pylist([row], schema=INVOICE_SCHEMA))
        store_refreshed(wh, [(refreshed, [StateRecord("RECEIVED", "{}", state_at=T1)])], now=T1, hub="face")
        got = wh.fetch(
            "select invoice_number, amount_cents, supplier_nif, hub_state, hub_state_at, raw_json,"
            " xml_sha256, source, first_seen_at, fetched_at, source_hub from raw.invoices"
        )
        history = wh.fetch("select seq, state, source_hub from raw.invoice_states")
    assert got == [("F-1", 12100, "B1", "RECEIVED", T1, '{"state only": true}', "ab" * 32, "pending", T0, T1,
                    "face")]  # fmt: skip
    assert history == [(1, "RECEIVED", "face")]
