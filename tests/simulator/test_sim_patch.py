"""PATCH /factura/:id: the spec's rules 3001-3008, the history append and queue effects."""

from __future__ import annotations

import pytest

from rcflow.connectors.efact.simulator.models import Q_LEGACY_CODES
from rcflow.connectors.efact.states import State


def _first_pending(client) -> str:
    return client.get("/factures-pendents").json()["factures"][0]["id"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"estat": "REGISTERED"}, 3001),
        ({"estat": "SENT"}, 3001),
        ({"estat": "BOGUS"}, 3001),
        ({"numeroRegistreRCF": "RCF-1"}, 3001),
        ({"estat": "ANNOTATED"}, 3002),
        ({"estat": "ANNOTATED", "numeroRegistreRCF": "  "}, 3002),
        ({"estat": "REJECTED", "codiMotiuRebuig": "E01"}, 3003),
        ({"estat": "PAID"}, 3004),
        ({"estat": "PAID", "dataPagament": "30/11/2023"}, 3006),
        ({"estat": "PAID", "dataPagament": "2023-02-30"}, 3006),
        ({"estat": "PAID", "dataPagament": "2023-1-05"}, 3006),
        ({"estat": "RECOGNISED", "descripcioMotiuRebuig": "no"}, 3008),
        ({"estat": "ANNOTATED", "numeroRegistreRCF": "R", "codiMotiuRebuig ": "E01"}, 3008),
    ],
)
def test_validation_rules(shared_client, error_code, body, code) -> None:
    """Each malformed update gets HTTP 400 and its code, and changes nothing."""
    invoice_id = _first_pending(shared_client)
    before = shared_client.get(f"/factura/{invoice_id}/estats").json()
    response = shared_client.patch(f"/factura/{invoice_id}", json=body)
    assert response.status_code == 400
    assert error_code(response) == code
    assert shared_client.get(f"/factura/{invoice_id}/estats").json() == before


def test_invalid_json_body_is_3001(shared_client, error_code) -> None:
    """A body that is not a JSON object cannot carry a state."""
    invoice_id = _first_pending(shared_client)
    for content in (b"{not json", b"[]", b"null"):
        response = shared_client.patch(f"/factura/{invoice_id}", content=content,
                                       headers={"Content-Type": "application/json"})
        assert (response.status_code, error_code(response)) == (400, 3001)


def test_unknown_invoice_is_2001(shared_client, error_code) -> None:
    response = shared_client.patch("/factura/1", json={"estat": "DELIVERED"})
    assert (response.status_code, error_code(response)) == (404, 2001)


def test_unregistered_invoice_is_3005(sim, client, error_code) -> None:
    """An invoice without a registry number cannot be updated."""
    invoice_id = sim.hub.unregistered_ids[0]
    assert client.get(f"/factura/{invoice_id}").json()["estat"] == "SENT"
    response = client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    assert (response.status_code, error_code(response)) == (400, 3005)


def test_spec_examples_with_stray_spaces_are_accepted(client) -> None:
    """The spec's own bodies ("ANNOTATED ", "codiMotiuRebuig ") work as written."""
    invoice_id = _first_pending(client)
    annotated = client.patch(f"/factura/{invoice_id}",
                             json={"estat": "ANNOTATED ", "numeroRegistreRCF": "RCF-2023-89584"})
    assert annotated.status_code == 200
    assert annotated.json()["estat"] == "ANNOTATED"
    assert annotated.json()["numeroRegistreRCF"] == "RCF-2023-89584"
    recognised = client.patch(f"/factura/{invoice_id}", json={"estat": "RECOGNISED "})
    assert recognised.json()["estat"] == "RECOGNISED"
    other = client.get("/factures-pendents").json()["factures"][0]["id"]
    client.patch(f"/factura/{other}", json={"estat": "DELIVERED"})
    rejected = client.patch(f"/factura/{other}", json={
        "estat": "REJECTED", "codiMotiuRebuig ": "E01",
        "descripcioMotiuRebuig ": "No s'ha especificat el número d'expedient"})
    assert rejected.status_code == 200
    body = rejected.json()
    assert (body["estat"], body["codiMotiuRebuig"]) == ("REJECTED", "E01")
    assert body["descripcioMotiuRebuig"] == "No s'ha especificat el número d'expedient"


def test_full_lifecycle_appends_history(sim, client) -> None:
    """Each accepted update appends one history entry with the 2025 technical code."""
    invoice_id = next(i for i in sim.hub.pending_ids()
                      if not sim.hub.invoices[i].quirks & Q_LEGACY_CODES)
    steps = [
        ({"estat": "DELIVERED"}, "1250"),
        ({"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-2025-000123"}, "1400"),
        ({"estat": "RECEIVED"}, "2100"),
        ({"estat": "ACCEPTED"}, "2300"),
        ({"estat": "RECOGNISED"}, "2400"),
        ({"estat": "PAID", "dataPagament": "2025-07-15"}, "2500"),
    ]
    for body, code in steps:
        response = client.patch(f"/factura/{invoice_id}", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["estat"] == body["estat"]
        last = client.get(f"/factura/{invoice_id}/estats").json()["estats"][-1]
        assert (last["estat"], last["codiEstat"]) == (body["estat"], code)
        assert "+01:00" in last["dataEstat"] or "+02:00" in last["dataEstat"]
    history = client.get(f"/factura/{invoice_id}/estats").json()["estats"]
    assert [h["estat"] for h in history] == ["SENT", "REGISTERED", "DELIVERED", "ANNOTATED",
                                            "RECEIVED", "ACCEPTED", "RECOGNISED", "PAID"]
    assert history[3]["numeroRegistreRCF"] == "RCF-2025-000123"
    assert history[-1]["dataPagament"] == "2025-07-15"
    detail = client.get(f"/factura/{invoice_id}").json()
    assert detail["dataPagament"] == "2025-07-15"
    assert detail["numeroRegistreRCF"] == "RCF-2025-000123"
    stamps = [h["dataEstat"][:19] for h in history]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("path", "attempt"),
    [
        ([{"estat": "ANNOTATED", "numeroRegistreRCF": "R1"}],
         {"estat": "ANNOTATED", "numeroRegistreRCF": "R1"}),  # double push
        ([{"estat": "ANNOTATED", "numeroRegistreRCF": "R1"}], {"estat": "DELIVERED"}),  # lower
        ([{"estat": "DELIVERED"}, {"estat": "RECOGNISED"}], {"estat": "RECEIVED"}),  # lower
        ([{"estat": "DELIVERED"}, {"estat": "PAID", "dataPagament": "2025-01-02"}],
         {"estat": "REJECTED", "descripcioMotiuRebuig": "tard"}),  # REJECTED after PAID
        ([{"estat": "DELIVERED"}, {"estat": "REJECTED", "descripcioMotiuRebuig": "x"}],
         {"estat": "PAID", "dataPagament": "2025-01-02"}),  # anything after REJECTED
        ([{"estat": "DELIVERED"}, {"estat": "REJECTED", "descripcioMotiuRebuig": "x"}],
         {"estat": "REJECTED", "descripcioMotiuRebuig": "x"}),
    ],
)
def test_impossible_transitions_are_3007(client, error_code, path, attempt) -> None:
    """Repeats, steps back and anything after a final state are refused with 3007."""
    invoice_id = _first_pending(client)
    for body in path:
        assert client.patch(f"/factura/{invoice_id}", json=body).status_code == 200
    response = client.patch(f"/factura/{invoice_id}", json=attempt)
    assert (response.status_code, error_code(response)) == (400, 3007)


def test_rejected_allowed_at_any_moment_before_paid(client) -> None:
    """REJECTED may follow REGISTERED directly, or ACCEPTED."""
    first, second = [f["id"] for f in client.get("/factures-pendents").json()["factures"][:2]]
    ok = client.patch(f"/factura/{first}", json={"estat": "REJECTED",
                                                 "descripcioMotiuRebuig": "duplicada"})
    assert ok.status_code == 200
    assert "codiMotiuRebuig" not in ok.json()
    client.patch(f"/factura/{second}", json={"estat": "ACCEPTED"})
    assert client.patch(f"/factura/{second}", json={
        "estat": "REJECTED", "descripcioMotiuRebuig": "x"}).status_code == 200


def test_only_delivered_or_annotated_leave_the_queue(sim, client) -> None:
    """RECEIVED or REJECTED straight from REGISTERED leave the invoice pending."""
    ids = [f["id"] for f in client.get("/factures-pendents").json()["factures"][:4]]
    client.patch(f"/factura/{ids[0]}", json={"estat": "DELIVERED"})
    client.patch(f"/factura/{ids[1]}", json={"estat": "ANNOTATED", "numeroRegistreRCF": "R"})
    client.patch(f"/factura/{ids[2]}", json={"estat": "RECEIVED"})
    client.patch(f"/factura/{ids[3]}", json={"estat": "REJECTED", "descripcioMotiuRebuig": "x"})
    pending = {f["id"] for f in client.get("/factures-pendents").json()["factures"]}
    assert ids[0] not in pending and ids[1] not in pending
    assert ids[2] in pending and ids[3] in pending
    assert sim.hub.invoices[ids[3]].state is State.REJECTED


def test_backfill_invoices_follow_the_same_rules(sim, client, error_code) -> None:
    """A PAID backfill invoice refuses everything; an ANNOTATED one moves on."""
    hub = sim.hub
    paid = next(i for i in hub.backfill_ids if hub.invoices[i].state is State.PAID)
    response = client.patch(f"/factura/{paid}", json={"estat": "RECOGNISED"})
    assert error_code(response) == 3007
    annotated = next((i for i in hub.backfill_ids
                      if hub.invoices[i].state is State.ANNOTATED), None)
    if annotated is not None:
        assert client.patch(f"/factura/{annotated}",
                            json={"estat": "RECOGNISED"}).status_code == 200
