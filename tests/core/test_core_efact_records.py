"""eFACT's answers as core records: the very column values the warehouse stored before the
connector contract (the spec's quirks included), and the JSON each entry was received as."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from rcflow.connectors.efact.client import _parse_model
from rcflow.connectors.efact.http import Answer
from rcflow.connectors.efact.models import EntityList, InvoiceDetail, StateHistory
from rcflow.connectors.efact.records import acknowledged, entity_records, invoice_record, state_records
from rcflow.ingest.rows import ENTITY_SCHEMA, INVOICE_SCHEMA, STATE_SCHEMA, entity_rows, invoice_row
from rcflow.warehouse.raw import state_rows

MADRID = ZoneInfo("Europe/Madrid")
AT = datetime(2025, 11, 20, 9, tzinfo=UTC)
# The spec's quirks: a key with a stray space, the Spanish spelling, an amount as text with a
# comma, a state with a trailing space, a naive timestamp (Madrid time), no id.
DETAIL = (
    '{"numeroFactura ": "F-1", "dataFactura": "2023-10-25", "importFactura": "1542,75",'
    ' "nifProveedor": "ESR0599999J", "nomProveedor": "Prov", "nif": "ESQ1111112G", "nom": "Ens",'
    ' "numeroRegistre": "E1", "dataRegistre": "2023-10-25T16:25:02", "estat": "ANNOTATED ",'
    ' "numeroRegistreRCF": "RCF-1", "dataEstat": "2023-10-26T12:03:54.000+02:00"}'
)
HISTORY = (
    '{"estats": [{"estat": "REGISTERED", "codiEstat": "1200", "dataEstat": "2023-10-25T16:25:02"},'
    ' {"estat": "annotated ", "codiEstat": 1400, "numeroRegistreRCF": "RCF-1"},'
    ' {"estat": "LOST", "codiEstat": "0000"}]}'
)


def _model(text: str, model: type):  # type: ignore[no-untyped-def]
    """The model as the client builds it from an answer (its raw JSON kept)."""
    return _parse_model("GET", "x", Answer(200, {}, text.encode()), model)


def test_a_detail_becomes_the_row_it_always_was() -> None:
    detail = _model(DETAIL, InvoiceDetail)
    row = invoice_row(invoice_record(detail, "159"), xml_sha256="ab", source="pending", fetched_at=AT)
    assert set(row) >= set(INVOICE_SCHEMA.names)
    assert row["invoice_id"] == "159"  # the detail has no id: the requested one
    assert row["invoice_number"] == "F-1" and row["amount_cents"] == 154275
    assert (row["supplier_nif"], row["supplier_name"]) == ("ESR0599999J", "Prov")
    assert row["registry_at"] == datetime(2023, 10, 25, 16, 25, 2, tzinfo=MADRID)
    assert row["issue_date"] == date(2023, 10, 25)
    assert row["hub_state"] == "ANNOTATED" and row["rcf_number"] == "RCF-1"
    assert row["raw_json"] == DETAIL  # exactly as received
    ack = acknowledged(detail, "159")
    assert (ack.invoice_id, ack.hub_state, ack.hub_state_at) == ("159", "ANNOTATED", row["hub_state_at"])


def test_a_history_keeps_each_entry_as_received_and_names_states_as_the_core() -> None:
    records = state_records(_model(HISTORY, StateHistory))
    rows = state_rows("159", records, AT)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert [r["state"] for r in rows] == ["REGISTERED", "ANNOTATED", "LOST"]  # unknown: upper-cased
    assert [r["state_code"] for r in rows] == ["1200", "1400", "0000"]
    assert rows[0]["state_at"] == datetime(2023, 10, 25, 16, 25, 2, tzinfo=MADRID)
    assert [json.loads(r["raw_json"]) for r in rows] == json.loads(HISTORY)["estats"]
    assert rows[1]["raw_json"] == '{"estat": "annotated ", "codiEstat": 1400, "numeroRegistreRCF": "RCF-1"}'
    assert set(rows[0]) == set(STATE_SCHEMA.names)


def test_an_entity_list_becomes_entity_rows() -> None:
    text = '{"ens": [{"nif": "P0800000B", "nom": "Ajuntament", "ine10": "0801930001"}, {"nif": 8}]}'
    table = entity_rows(entity_records(_model(text, EntityList)), AT)
    assert table.schema == ENTITY_SCHEMA
    assert table.column("entity_nif").to_pylist() == ["P0800000B", "8"]
    assert table.column("raw_json").to_pylist() == [
        '{"nif": "P0800000B", "nom": "Ajuntament", "ine10": "0801930001"}',
        '{"nif": 8}',
    ]
