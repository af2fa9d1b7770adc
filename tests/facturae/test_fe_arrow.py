"""The Arrow builders against the real warehouse tables (migrations run in a tmp DuckDB)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from rcflow.facturae import (
    SCHEMAS,
    FacturaeRejected,
    Mismatch,
    documents_to_arrow,
    mismatches_to_arrow,
    parse_facturae,
)
from rcflow.warehouse import Warehouse, migrate
from rcflow.warehouse.tables import TABLES

Load = Callable[[str], bytes]
PARSED_AT = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
FIXTURES = [
    "v32.xml",
    "v321.xml",
    "v322_gob.xml",
    "v322_es.xml",
    "installments.xml",
    "credit_note.xml",
    "signed.xml",
    "batch.xml",
    "individual_seller.xml",
    "foreign_seller.xml",
    "latin1.xml",
]


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    migrate(connection)
    yield connection
    connection.close()


@pytest.fixture
def items(fixture_bytes: Load) -> list[tuple[str, str, object]]:
    parsed: list[tuple[str, str, object]] = [
        (f"inv-{n}", f"sha-{n}", parse_facturae(fixture_bytes(name)))
        for n, name in enumerate(FIXTURES)
    ]
    try:
        parse_facturae(fixture_bytes("hostile/xxe_file.xml"))
    except FacturaeRejected as rejected:
        parsed.append(("inv-bad", "sha-bad", rejected))
    return parsed


# The schemas' agreement with the DDL (names, order, types, keys) is the warehouse's table
# contract: tests/core/test_wh_tables.py checks rcflow.warehouse.tables, built on these schemas.


def test_insert_parsed_and_refused_documents(
    con: duckdb.DuckDBPyConnection, items: list[tuple[str, str, object]]
) -> None:
    """Bulk insert into the real tables; a refused file is one quarantined row, no children."""
    tables = documents_to_arrow(items, PARSED_AT)  # type: ignore[arg-type]
    assert set(tables) == set(SCHEMAS)
    for name, table in tables.items():
        assert table.schema.equals(SCHEMAS[name])
        con.register("incoming", table)
        con.execute(f"insert into {name} by name select * from incoming")
        con.unregister("incoming")

    assert con.execute("select count(*) from raw.facturae_documents").fetchone() == (12,)
    bad = con.execute(
        "select parse_status, parse_error, total_cents, sha256, parsed_at"
        " from raw.facturae_documents where invoice_id = 'inv-bad'"
    ).fetchone()
    assert bad[0] == "quarantined"
    assert bad[1].startswith("dtd_or_entities: ")
    assert bad[2] is None and bad[3] == "sha-bad"
    assert bad[4] == PARSED_AT
    for child in ("lines", "installments", "centres"):
        assert con.execute(
            f"select count(*) from raw.facturae_{child} where invoice_id = 'inv-bad'"
        ).fetchone() == (0,)

    gob = con.execute(
        "select schema_version, seller_nif, buyer_nif, issue_date, total_cents,"
        " tax_withheld_cents, is_signed, line_count, installment_count"
        " from raw.facturae_documents where invoice_id = 'inv-2'"
    ).fetchone()
    assert gob == (
        "3.2.2",
        "B12345674",
        "Q1111112G",
        date(2023, 10, 25),
        115500,
        16500,
        False,
        2,
        1,
    )
    assert con.execute(
        "select line_no, quantity, unit_price, total_cost_cents, tax_rate"
        " from raw.facturae_lines where invoice_id = 'inv-2' order by line_no"
    ).fetchall() == [(1, 10.0, 100.0, 100000, 21.0), (2, 2.5, 40.0, 10000, 10.0)]
    assert con.execute(
        "select seq, due_date, amount_cents from raw.facturae_installments"
        " where invoice_id = 'inv-4' order by seq"
    ).fetchall() == [
        (1, date(2024, 2, 14), 38501),
        (2, date(2024, 3, 15), 38500),
        (3, date(2024, 4, 15), 38500),
    ]
    assert con.execute(
        "select role_code, centre_code from raw.facturae_centres"
        " where invoice_id = 'inv-0' order by role_code"
    ).fetchall() == [("01", "L01080193"), ("02", "L01080193"), ("03", "L01080193")]
    assert con.execute(
        "select is_signed from raw.facturae_documents where invoice_id = 'inv-6'"
    ).fetchone() == (True,)


def test_upsert_through_the_warehouse(tmp_path: Path, items: list[tuple[str, str, object]]) -> None:
    """The tables go through ``Warehouse.upsert`` with the contract's keys, twice, idempotently."""
    tables = documents_to_arrow(items, PARSED_AT)  # type: ignore[arg-type]
    with Warehouse(tmp_path / "wh.duckdb", publish=False) as warehouse:
        for _ in range(2):
            for name, table in tables.items():
                warehouse.upsert(name, table, list(TABLES[name].key))
        counts = {
            name: warehouse.con.execute(f"select count(*) from {name}").fetchone()[0]
            for name in tables
        }
    assert counts == {name: table.num_rows for name, table in tables.items()}


def test_empty_input_gives_empty_typed_tables() -> None:
    """No items: four empty tables with the full schemas."""
    tables = documents_to_arrow([], PARSED_AT)
    assert all(table.num_rows == 0 for table in tables.values())
    assert all(tables[name].schema.equals(schema) for name, schema in SCHEMAS.items())


def test_naive_parsed_at_is_refused() -> None:
    """parsed_at lands in a timestamptz column; a naive datetime is ambiguous."""
    with pytest.raises(ValueError):
        documents_to_arrow([], datetime(2024, 6, 1, 8, 30))


def test_document_row_keys_are_the_table_columns_minus_callers(fixture_bytes: Load) -> None:
    """The per-document helpers use exactly the warehouse column names."""
    doc = parse_facturae(fixture_bytes("v322_gob.xml"))
    owned = {"invoice_id", "sha256", "parsed_at"}
    assert list(doc.document_row()) == [
        n for n in SCHEMAS["raw.facturae_documents"].names if n not in owned
    ]
    assert list(doc.line_rows()[0]) == SCHEMAS["raw.facturae_lines"].names[1:]
    assert list(doc.installment_rows()[0]) == SCHEMAS["raw.facturae_installments"].names[1:]
    assert list(doc.centre_rows()[0]) == SCHEMAS["raw.facturae_centres"].names[1:]


def test_mismatches_insert(con: duckdb.DuckDBPyConnection) -> None:
    """Cross-check results go into raw.facturae_mismatches in bulk."""
    table = mismatches_to_arrow(
        [
            ("inv-1", [Mismatch("total", "10.00", "10.01"), Mismatch("buyer_nif", "X", "Y")]),
            ("inv-2", []),
        ]
    )
    assert isinstance(table, pa.Table)
    con.register("incoming", table)
    con.execute("insert into raw.facturae_mismatches by name select * from incoming")
    assert con.execute(
        "select invoice_id, field, hub_value, xml_value from raw.facturae_mismatches order by field"
    ).fetchall() == [("inv-1", "buyer_nif", "X", "Y"), ("inv-1", "total", "10.00", "10.01")]
