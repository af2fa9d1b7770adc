"""A batch's attachment rows: new ones inserted, stored ones upserted, decided by one look-up in
the batch's transaction (``rcflow.warehouse.raw.store_invoices``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from warehouse_rows import store_batch

from rcflow.warehouse import Warehouse, raw

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _attachment(attachment_id: str, invoice_id: str, name: str) -> dict[str, object]:
    return {"attachment_id": attachment_id, "invoice_id": invoice_id, "name": name,
            "media_type": "application/pdf", "size_bytes": 3, "sha256": "ab" * 32, "source": "pending",
            "fetched_at": NOW}  # fmt: skip


def _store(wh: Warehouse, invoice_id: str, attachments: list[dict[str, object]]) -> set[str]:
    invoice = {"invoice_id": invoice_id, "source": "pending", "raw_json": "{}", "first_seen_at": NOW,
               "fetched_at": NOW}  # fmt: skip
    return store_batch(wh, [invoice_id], invoices=[invoice], attachments=attachments, now=NOW)


def test_a_new_invoice_whose_attachment_is_already_stored_updates_that_row(tmp_path: Path) -> None:
    with Warehouse(tmp_path / "warehouse.duckdb", publish=False) as wh:
        assert _store(wh, "1", [_attachment("A1", "1", "first.pdf")]) == {"1"}
        raw.mark_attachments_released(wh, ["A1"], now=NOW)
        # A new invoice listing a stored attachment id (and a new one): upserted and inserted.
        again = [_attachment("A1", "2", "again.pdf"), _attachment("A2", "2", "b.pdf")]
        assert _store(wh, "2", again) == {"2"}
        rows = wh.fetch("select attachment_id, invoice_id, name, released_at is not null"
                        " from raw.attachments order by 1")  # fmt: skip
    assert rows == [("A1", "2", "again.pdf", True), ("A2", "2", "b.pdf", False)]  # released_at kept
