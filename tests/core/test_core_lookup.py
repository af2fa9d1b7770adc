"""The writer's look-ups on a warehouse already holding many invoices under random (non-monotonic)
hub ids: exact answers, and point look-ups in the primary key's index rather than scans of tables
that grow with the warehouse (``rcflow.warehouse.raw``)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warehouse_rows import store_batch

from rcflow.warehouse import Warehouse, raw
from rcflow.warehouse.raw import LOOKUP_CHUNK

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
STORED = 20_000  # invoices (and as many attachments) in the warehouse before each test
# (n * odd) mod 2^32 is a bijection: distinct ids, in no order; the hub's own are 9 digits.
SQL_ID = "lpad(((range * {odd}) % 4294967296)::varchar, 10, '0')"


def _random_id(n: int, odd: int) -> str:
    return f"{(n * odd) % 2**32:010d}"


def _invoice_id(n: int) -> str:
    return _random_id(n, 2654435761)


def _attachment_id(n: int) -> str:
    return _random_id(n, 2246822519)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prefilled") / "warehouse.duckdb"
    with Warehouse(path, publish=False) as wh, wh.transaction() as con:
        con.execute(
            "insert into raw.invoices (invoice_id, source, raw_json, first_seen_at, fetched_at)"
            f" select {SQL_ID.format(odd=2654435761)}, 'pending', '{{}}', ?, ? from range({STORED})",
            [NOW, NOW],
        )
        con.execute(
            "insert into raw.attachments (attachment_id, invoice_id, source, fetched_at)"
            f" select {SQL_ID.format(odd=2246822519)}, {SQL_ID.format(odd=2654435761)}, 'invoice', ?"
            f" from range({STORED})",
            [NOW],
        )
    return path


@pytest.fixture
def wh(template: Path, tmp_path: Path) -> Iterator[Warehouse]:
    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(template.read_bytes())
    with Warehouse(path, publish=False) as opened:
        yield opened


def _sample(make, count: int, seed: int) -> list[str]:  # noqa: ANN001 (an id maker)
    return [make(n) for n in random.Random(seed).sample(range(STORED), count)]


def _fresh(count: int, seed: int) -> list[str]:
    """Ids no prefilled row has (11 digits), interleaved with the stored ones in sort order."""
    rng = random.Random(seed)
    return [f"{rng.randrange(10**10):010d}9" for _ in range(count)]


def test_the_lookups_find_exactly_the_stored_ids_among_random_ones(wh: Warehouse) -> None:
    stored, attachments = _sample(_invoice_id, 60, 1), _sample(_attachment_id, 40, 2)
    asked, asked_attachments = [*stored, *_fresh(60, 3)], [*attachments, *_fresh(40, 4)]
    random.Random(5).shuffle(asked)
    known = raw._known_invoices_and_attachments(wh, asked, asked_attachments)
    assert known == (set(stored), set(attachments))
    assert raw._known_invoices_and_attachments(wh, asked, []) == (set(stored), set())
    assert raw.known_ids(wh, "raw.attachments", "attachment_id", asked_attachments) == set(attachments)
    assert raw.known_ids(wh, "raw.invoices", "invoice_id", []) == set()


def test_a_lookup_longer_than_a_chunk_is_still_exact(wh: Warehouse) -> None:
    # Above DuckDB's index_scan_max_count (2048): asked in chunks, each a point look-up.
    stored = _sample(_invoice_id, LOOKUP_CHUNK + 1500, 6)
    asked = [*stored, *_fresh(LOOKUP_CHUNK, 7)]
    random.Random(8).shuffle(asked)
    assert raw.known_ids(wh, "raw.invoices", "invoice_id", asked) == set(stored)
    attachments = _sample(_attachment_id, LOOKUP_CHUNK + 10, 9)
    assert raw._known_invoices_and_attachments(wh, asked, attachments) == (set(stored), set(attachments))


def _batch(wh: Warehouse, ids: list[str], attachments: dict[str, str]) -> set[str]:
    invoices = [{"invoice_id": i, "source": "pending", "raw_json": json.dumps({"id": i}),
                 "first_seen_at": NOW, "fetched_at": NOW, "hub_state": "NEW"} for i in ids]  # fmt: skip
    rows = [{"attachment_id": a, "invoice_id": i, "name": f"{a}.pdf", "source": "invoice", "fetched_at": NOW}
            for a, i in attachments.items()]  # fmt: skip
    return store_batch(wh, ids, invoices=invoices, attachments=rows, now=NOW)


def test_a_batch_on_a_large_warehouse_inserts_the_new_and_updates_the_stored(wh: Warehouse) -> None:
    stored, new = _sample(_invoice_id, 40, 10), _fresh(60, 11)
    stored_attachment = _attachment_id(3)
    attachments = {stored_attachment: new[0], **{f"{i}a": i for i in new[1:20]}}
    assert _batch(wh, [*new[:30], *stored[:20], *new[30:], *stored[20:]], attachments) == set(new)
    counts = wh.fetch("select (select count(*) from raw.invoices), (select count(*) from raw.attachments),"
                      " (select count(*) from raw.invoices where raw_json->>'id' is not null)")  # fmt: skip
    assert counts == [(STORED + 60, STORED + 19, 100)]
    assert wh.fetch("select invoice_id, name from raw.attachments where attachment_id = ?",
                    [stored_attachment]) == [(new[0], f"{stored_attachment}.pdf")]  # fmt: skip


def test_acknowledgements_and_releases_touch_exactly_the_listed_rows(wh: Warehouse) -> None:
    acked = _sample(_invoice_id, LOOKUP_CHUNK + 200, 12)
    rows = [{"invoice_id": i, "hub_state": "DELIVERED" if n % 2 else None, "hub_state_at": NOW}
            for n, i in enumerate(acked)]  # fmt: skip
    raw.mark_acknowledged(wh, raw.acknowledged_rows(rows), now=NOW)
    delivered = wh.fetch("select invoice_id, hub_state from raw.invoices where delivered_at is not null")
    assert dict(delivered) == {i: "DELIVERED" if n % 2 else None for n, i in enumerate(acked)}
    released = _sample(_attachment_id, LOOKUP_CHUNK + 300, 13)
    raw.mark_attachments_released(wh, [*released, *_fresh(5, 14)], now=NOW)
    got = wh.fetch("select attachment_id from raw.attachments where released_at is not null")
    assert {r[0] for r in got} == set(released)


def _table_scans(plan: dict) -> Iterator[dict]:
    if plan.get("type") == "TABLE_SCAN":
        yield plan.get("extra_info", {})
    for child in plan.get("children", []):
        yield from _table_scans(child)


def _scan_types(con, sql: str, params: list) -> dict[str, set[str]]:  # noqa: ANN001 (a DuckDB connection)
    (_, text), = con.execute(f"explain (analyze, format json) {sql}", params).fetchall()
    types: dict[str, set[str]] = {}
    for operator in json.loads(text)["operator"]:
        for scan in _table_scans(operator):
            if "Table" in scan:
                types.setdefault(scan["Table"].rsplit(".", 1)[-1], set()).add(scan.get("Type", "?"))
    return types


def test_the_writer_reads_the_rows_it_asks_for_not_the_whole_tables(wh: Warehouse) -> None:
    # The query plans of the writer's own statements: each raw.invoices / raw.attachments read is
    # a point look-up in the primary key's index (a join on a batch table scanned them whole,
    # every commit, as the warehouse grew).
    ids, attachments = [*_sample(_invoice_id, 50, 15), *_fresh(50, 16)], _sample(_attachment_id, 100, 17)
    con = wh.con
    index = {"Index Scan"}
    assert _scan_types(con, raw.KNOWN_INVOICES_AND_ATTACHMENTS, [ids, attachments]) == {
        "invoices": index, "attachments": index}  # fmt: skip
    assert _scan_types(con, raw.lookup_sql("raw.attachments", "attachment_id"), [attachments]) == {
        "attachments": index}  # fmt: skip
    acked = raw.acknowledged_rows([{"invoice_id": i, "hub_state": None, "hub_state_at": NOW} for i in ids])
    con.execute("begin transaction")
    with wh.registered("_rcflow_rows", acked):  # what Warehouse.scanning hands DuckDB
        try:
            assert _scan_types(con, raw.ACKNOWLEDGE, [NOW, ids]) == {"invoices": index}
            assert _scan_types(con, raw.RELEASE, [NOW, attachments]) == {"attachments": index}
        finally:
            con.execute("rollback")
