"""The hub models accept every quirk of the spec; the PATCH payload is validated locally."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rcflow.connectors.efact.errors import PayloadError
from rcflow.connectors.efact.models import (
    ErrorBody,
    InvoiceDetail,
    PendingInvoicesPage,
    StateHistory,
    StateUpdate,
)
from rcflow.connectors.efact.states import State

SPEC_DETAIL = {
    "numeroFactura": "F2310-001",
    "dataFactura": "2023-10-25",
    "importFactura": 1542.75,
    "nifProveidor": "ESR0599999J",
    "nomProveidor": "Entidad de pruebas",
    "nif": "ESQ1111112G",
    "nom": "ENS FORMACIO B",
    "numeroRegistre": "E2023000064",
    "dataRegistre": "2023-10-25T16:25:02.000+02:00",
    "estat": "REJECTED",
    "dataEstat": "2023-10-26T12:03:54+02:00",
    "codiMotiuRebuig": "2134",
    "descripcioMotiuRebuig": "Descipcio Motiu",
    "adjunts": [{"idAdjunt": "159731005", "nom": "1.pdf"}],
}


def test_spec_detail_example_parses_without_id() -> None:
    detail = InvoiceDetail.model_validate(SPEC_DETAIL)
    assert detail.id is None
    assert detail.amount_cents == 154275
    assert detail.state is State.REJECTED
    assert detail.dataRegistre.utcoffset().total_seconds() == 7200
    assert detail.adjunts[0].idAdjunt == "159731005"


def test_spanish_spelling_string_amount_and_numeric_ids() -> None:
    detail = InvoiceDetail.model_validate(
        {
            "id": 159732145,
            "nifProveedor": "ESB12345678",
            "nomProveedor": "Proveïdor SL",
            "importFactura": "1542.75",
            "estat": "ANNOTATED ",
            "dataEstat": "2023-10-26T12:03:54",
        }
    )
    assert detail.id == "159732145"
    assert detail.nifProveidor == "ESB12345678"
    assert detail.importFactura == Decimal("1542.75")
    assert detail.state is State.ANNOTATED
    assert detail.dataEstat.tzinfo is not None  # naive → Europe/Madrid


@pytest.mark.parametrize(
    "body",
    [
        {"codiError": 9999, "descripcioError": "x"},
        {"codiError": "9999", " descripcioError": "x"},
    ],
)
def test_error_body_quirks(body: dict) -> None:
    parsed = ErrorBody.model_validate(body)
    assert parsed.codiError == 9999 and parsed.descripcioError == "x"


def test_history_and_pending_page() -> None:
    history = StateHistory.model_validate(
        {
            "estats": [
                {"estat": "REGISTERED", "codiEstat": "1200", "dataEstat": "2023-10-25T16:25:06+02:00"},
                {
                    "estat": "PAID",
                    "codiEstat": 2500,
                    "dataEstat": "2023-11-30T10:00:00.000+01:00",
                    "dataPagament": "2023-11-30",
                },
            ]
        }
    )
    assert [e.state for e in history.estats] == [State.REGISTERED, State.PAID]
    assert history.estats[1].codiEstat == "2500"
    assert history.estats[1].dataPagament == date(2023, 11, 30)
    page = PendingInvoicesPage.model_validate({"mesFactures": True, "factures": [{"id": 1, "nif": "X"}]})
    assert page.mesFactures and page.factures[0].id == "1"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"state": "REGISTERED"}, 3001),
        ({"state": "SENT"}, 3001),
        ({"state": "NOPE"}, 3001),
        ({"state": "ANNOTATED"}, 3002),
        ({"state": "REJECTED"}, 3003),
        ({"state": "PAID"}, 3004),
        ({"state": "PAID", "payment_date": "30/11/2023"}, 3006),
        ({"state": "PAID", "payment_date": "2023-02-30"}, 3006),
        ({"state": "RECOGNISED", "reason": "x"}, 3008),
        ({"state": "ACCEPTED", "reason_code": "E1"}, 3008),
    ],
)
def test_payload_refused_locally(kwargs: dict, code: int) -> None:
    state = kwargs.pop("state")
    with pytest.raises(PayloadError) as info:
        StateUpdate.build(state, **kwargs)
    assert info.value.code == code


def test_payload_bodies_are_clean() -> None:
    assert StateUpdate.build("ANNOTATED ", rcf_number=" RCF-1 ").to_json() == {
        "estat": "ANNOTATED",
        "numeroRegistreRCF": "RCF-1",
    }
    assert StateUpdate.build("PAID", payment_date=date(2023, 11, 30)).to_json() == {
        "estat": "PAID",
        "dataPagament": "2023-11-30",
    }
    assert StateUpdate.build("REJECTED", reason_code="E01", reason="Falta expedient").to_json() == {
        "estat": "REJECTED",
        "codiMotiuRebuig": "E01",
        "descripcioMotiuRebuig": "Falta expedient",
    }


def test_keys_that_are_all_field_names_need_no_cleaning():
    """The shortcut in ``_clean_keys`` (a dict whose keys are all field names is passed as it is)
    holds only while no field name is an alternative spelling to fold or has stray spaces."""
    from rcflow.connectors.efact import models

    assert models._FIELD_NAMES.isdisjoint(models._ALIASES)
    assert all(name == name.strip() for name in models._FIELD_NAMES)
    assert {"idFactura", "estats", "factures"} <= models._FIELD_NAMES
    spelled = {f" {name}": "x" for name in models._ALIASES}
    assert set(models._clean_keys(spelled)) == set(models._ALIASES.values())
