"""A warehouse seeded with a few invoices and hub histories, written the way the sync writes them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from rcflow.ingest.rows import INVOICE_SCHEMA, STATE_SCHEMA
from rcflow.warehouse import Warehouse


def _ts(day: str) -> datetime:
    return datetime.fromisoformat(day + "T10:00:00+00:00").astimezone(UTC)


def invoice(invoice_id: str, registry_day: str, state: str, **extra: object) -> dict:
    row = {name: None for name in INVOICE_SCHEMA.names}
    row.update(
        invoice_id=invoice_id,
        invoice_number=f"F-{invoice_id}",
        amount_cents=10000,
        entity_nif="ESP0800000B",
        registry_number=f"E{invoice_id}",
        registry_at=_ts(registry_day),
        hub_state=state,
        source="pending",
        raw_json="{}",
        first_seen_at=_ts(registry_day),
        fetched_at=_ts(registry_day),
    )
    row.update(extra)
    return row


def states(invoice_id: str, *entries: tuple[str, str]) -> list[dict]:
    rows = []
    for seq, (state, day) in enumerate(entries, start=1):
        row = {name: None for name in STATE_SCHEMA.names}
        row.update(
            invoice_id=invoice_id,
            seq=seq,
            state=state,
            state_at=_ts(day),
            raw_json="{}",
            fetched_at=_ts(day),
            payment_date=date.fromisoformat(day) if state == "PAID" else None,
        )
        rows.append(row)
    return rows


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    invoices = [
        invoice("100", "2025-01-10", "DELIVERED"),
        invoice("200", "2025-01-12", "ANNOTATED"),
        invoice("300", "2025-01-15", "PAID", payment_date=date(2025, 2, 20)),
        invoice("400", "2025-01-20", "REJECTED"),
        invoice("500", "2025-01-25", "DELIVERED"),
    ]
    history = (
        states("100", ("REGISTERED", "2025-01-10"), ("DELIVERED", "2025-01-11"))
        + states(
            "200", ("REGISTERED", "2025-01-12"), ("DELIVERED", "2025-01-12"), ("ANNOTATED", "2025-01-13")
        )
        + states(
            "300",
            ("REGISTERED", "2025-01-15"),
            ("ANNOTATED", "2025-01-16"),
            ("RECOGNISED", "2025-01-30"),
            ("PAID", "2025-02-20"),
        )
        + states("400", ("REGISTERED", "2025-01-20"), ("REJECTED", "2025-01-22"))
        + states("500", ("REGISTERED", "2025-01-25"), ("DELIVERED", "2025-01-25"))
    )
    with Warehouse(path) as wh:
        wh.append("raw.invoices", pa.Table.from_pylist(invoices, schema=INVOICE_SCHEMA))
        wh.append("raw.invoice_states", pa.Table.from_pylist(history, schema=STATE_SCHEMA))
    return path
