"""The table contract (rcflow.warehouse.tables) and the DDL of a migrated warehouse file agree:
same columns in the same order, same types, the upsert key is the primary key; the lifecycle the
owed-updates view ranks states by is the connector's."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from rcflow.lifecycle import LIFECYCLE
from rcflow.warehouse import Warehouse
from rcflow.warehouse.tables import FROM_A_HUB, SOURCE_HUB, TABLES, with_source

DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us", tz="UTC"): "TIMESTAMP WITH TIME ZONE",
    pa.list_(pa.string()): "VARCHAR[]",
}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("contract") / "w.duckdb"
    with Warehouse(path, publish=False):
        pass
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def _ddl(con: duckdb.DuckDBPyConnection, name: str) -> list[tuple[str, str]]:
    schema, table = name.split(".")
    return con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_table_schema_matches_its_ddl(migrated: duckdb.DuckDBPyConnection, name: str) -> None:
    contract = TABLES[name].schema
    expected = []
    for field in contract:
        stored = "JSON" if field.name in {"raw_json", "payload", "summary"} else DUCKDB_TYPES[field.type]
        expected.append((field.name, stored))
    assert _ddl(migrated, name) == expected


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_upsert_key_is_the_primary_key(migrated: duckdb.DuckDBPyConnection, name: str) -> None:
    schema, table = name.split(".")
    keys = migrated.execute(
        "select constraint_column_names from duckdb_constraints()"
        " where constraint_type = 'PRIMARY KEY' and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    assert [tuple(k[0]) for k in keys] == ([TABLES[name].key] if TABLES[name].key else [])


def test_every_raw_table_says_which_hub_and_defaults_to_efact(migrated: duckdb.DuckDBPyConnection) -> None:
    raw = [r[0] for r in migrated.execute(
        "select 'raw.' || table_name from information_schema.tables"
        " where table_schema = 'raw' and table_type = 'BASE TABLE' order by 1").fetchall()]  # fmt: skip
    assert sorted(FROM_A_HUB) == raw
    defaults = migrated.execute(
        "select distinct column_default, is_nullable from information_schema.columns"
        " where table_schema = 'raw' and column_name = ?",
        [SOURCE_HUB],
    ).fetchall()
    assert defaults == [("'efact'", "NO")]
    rows = pa.table({"invoice_id": ["1"]})
    assert with_source(rows).column(SOURCE_HUB).to_pylist() == ["efact"]
    assert with_source(with_source(rows), "face").column(SOURCE_HUB).to_pylist() == ["face"]


def test_the_lifecycle_view_ranks_states_as_the_core_lifecycle(migrated: duckdb.DuckDBPyConnection) -> None:
    stored = migrated.execute(
        "select state, state_rank, is_mandatory from ops.lifecycle order by 2"
    ).fetchall()
    assert stored == sorted(
        ((s.value, stage.rank, stage.mandatory) for s, stage in LIFECYCLE.items()), key=lambda r: r[1]
    )


def test_row_builders_fill_every_column_but_what_the_warehouse_adds() -> None:
    invoices = TABLES["raw.invoices"].row_schema().names
    assert SOURCE_HUB not in invoices and "delivered_at" not in invoices and "invoice_id" in invoices


def test_the_writers_stamp_each_row_with_its_hub(tmp_path) -> None:
    from datetime import UTC, datetime

    from rcflow.warehouse import raw

    at = datetime(2025, 1, 1, tzinfo=UTC)
    entity = TABLES["raw.entities"].row_schema()
    rows = pa.Table.from_pylist(
        [{"entity_nif": "A", "entity_name": "a", "ine10": None, "raw_json": "{}", "fetched_at": at}],
        schema=entity,
    )
    with Warehouse(tmp_path / "w.duckdb", publish=False) as wh:
        raw.store_entities(wh, rows)
        assert wh.fetch("select source_hub from raw.entities") == [("efact",)]
        raw.store_entities(wh, rows, source="face")
        assert wh.fetch("select entity_nif, source_hub from raw.entities") == [("A", "face")]
