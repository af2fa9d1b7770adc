"""Queue semantics without cursors: 500 per call, leaving only by state or DELETE."""

from __future__ import annotations

import pytest

from rcflow.connectors.efact.simulator import RunningSimulator
from rcflow.connectors.efact.states import State


@pytest.fixture
def big(client, _server: RunningSimulator, sim_config) -> RunningSimulator:
    """A hub with more than two pages of pending invoices (after `client` made its own)."""
    _server.reset(sim_config(invoices=1_150, backfill=10))
    return _server


def _pending(client, **params) -> dict:
    response = client.get("/factures-pendents", params=params)
    assert response.status_code == 200
    return response.json()


def test_pages_of_500_without_cursor(big, client) -> None:
    """Max 500 per call; the same page comes back until its invoices are delivered."""
    first = _pending(client)
    assert len(first["factures"]) == 500 and first["mesFactures"] is True
    assert _pending(client) == first
    hub = big.hub
    ids = [f["id"] for f in first["factures"]]
    registry = [hub.invoices[i].registry_ms for i in ids]
    assert registry == sorted(registry), "oldest registry first"
    assert set(first["factures"][0]) == {"id", "nif", "oficinaComptable", "organGestor",
                                         "unitatTramitadora"}
    for invoice_id in ids:
        assert client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"}).is_success
    second = _pending(client)
    assert len(second["factures"]) == 500 and second["mesFactures"] is True
    assert not set(ids) & {f["id"] for f in second["factures"]}
    for f in second["factures"]:
        client.patch(f"/factura/{f['id']}", json={"estat": "ANNOTATED",
                                                  "numeroRegistreRCF": f"RCF-{f['id']}"})
    last = _pending(client)
    assert len(last["factures"]) == 150 and last["mesFactures"] is False
    assert len(hub.pending_ids()) == 150


def test_filters_by_nif_and_office(big, client) -> None:
    """nif (with or without ES) and oficinaComptable narrow the queue."""
    hub = big.hub
    entity = hub.data.entities[0]
    office = entity.offices[2].accounting
    by_nif = _pending(client, nif=entity.nif)["factures"]
    assert by_nif and {f["nif"] for f in by_nif} == {entity.nif}
    assert _pending(client, nif=entity.cif)["factures"] == by_nif
    both = _pending(client, nif=entity.nif, oficinaComptable=office)["factures"]
    assert both and {(f["nif"], f["oficinaComptable"]) for f in both} == {(entity.nif, office)}
    expected = sum(1 for i in hub.invoices.values()
                   if i.pending and i.entity is entity and i.office.accounting == office)
    assert len(both) == min(500, expected)
    assert _pending(client, nif="ESQ0000000A") == {"mesFactures": False, "factures": []}


def test_attachments_wait_for_delivery_and_delete(sim, client, error_code) -> None:
    """Attachments are pending once their invoice left the queue, until DELETE."""
    hub = sim.hub
    invoice_id = next(i for i in hub.pending_ids()
                      if any(not a.late for a in hub.invoices[i].attachments))
    listed = client.get(f"/factura/{invoice_id}").json()["adjunts"]
    assert listed
    assert client.get("/adjunts-pendents").json() == {"mesAdjunts": False, "adjunts": []}
    client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    pending = client.get("/adjunts-pendents").json()["adjunts"]
    assert {(a["idAdjunt"], a["nom"]) for a in pending} >= {
        (a["idAdjunt"], a["nom"]) for a in listed}
    assert {a["idFactura"] for a in pending} == {invoice_id}
    target = listed[0]["idAdjunt"]
    assert client.get(f"/factura/{invoice_id}/adjunts/{target}").status_code == 200
    assert client.get("/adjunts-pendents").json()["adjunts"] == pending  # reading is not acking
    deleted = client.delete(f"/adjunts-pendents/{target}")
    assert (deleted.status_code, deleted.content) == (200, b"")
    assert target not in {a["idAdjunt"] for a in client.get("/adjunts-pendents").json()["adjunts"]}
    assert target not in {a["idAdjunt"] for a in client.get(f"/factura/{invoice_id}").json()[
        "adjunts"]}
    again = client.delete(f"/adjunts-pendents/{target}")
    assert (again.status_code, error_code(again)) == (404, 2002)
    assert error_code(client.delete("/adjunts-pendents/42")) == 2002


def test_late_attachments_arrive_after_delivery(sim, client) -> None:
    """A late attachment is invisible until the second /adjunts-pendents call after delivery."""
    hub = sim.hub
    invoice_id = next(i for i in hub.pending_ids()
                      if any(a.late for a in hub.invoices[i].attachments))
    late_id = next(a.id for a in hub.invoices[invoice_id].attachments if a.late)
    assert late_id not in {a["idAdjunt"] for a in client.get(f"/factura/{invoice_id}").json()[
        "adjunts"]}
    assert client.get(f"/factura/{invoice_id}/adjunts/{late_id}").status_code == 404
    client.patch(f"/factura/{invoice_id}", json={"estat": "ANNOTATED", "numeroRegistreRCF": "R"})
    first = {a["idAdjunt"] for a in client.get("/adjunts-pendents").json()["adjunts"]}
    second = {a["idAdjunt"] for a in client.get("/adjunts-pendents").json()["adjunts"]}
    assert late_id not in first and late_id in second
    assert late_id in {a["idAdjunt"] for a in client.get(f"/factura/{invoice_id}").json()[
        "adjunts"]}
    assert client.get(f"/factura/{invoice_id}/adjunts/{late_id}").status_code == 200


def test_attachment_added_later_to_a_delivered_invoice(sim, client) -> None:
    """hub.add_attachment models an attachment sent long after its invoice."""
    hub = sim.hub
    invoice_id = hub.pending_ids()[0]
    client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    att_id = hub.add_attachment(invoice_id, "annex posterior.txt", content=b"hola\n")
    pending = client.get("/adjunts-pendents").json()["adjunts"]
    assert {"idAdjunt": att_id, "idFactura": invoice_id, "nom": "annex posterior.txt"} in pending
    assert client.get(f"/factura/{invoice_id}/adjunts/{att_id}").content == b"hola\n"


def test_attachment_queue_is_capped_at_500(_server, sim_config, client) -> None:
    """/adjunts-pendents returns at most 500 and says when more wait."""
    hub = _server.reset(sim_config(invoices=20, backfill=0, late_attachment_rate=0.0))
    invoice_id = hub.pending_ids()[0]
    hub.force_state(invoice_id, State.DELIVERED)
    for n in range(520):
        hub.add_attachment(invoice_id, f"{n}.txt", content=b"x")
    page = client.get("/adjunts-pendents").json()
    assert len(page["adjunts"]) == 500 and page["mesAdjunts"] is True
    for a in page["adjunts"]:
        client.delete(f"/adjunts-pendents/{a['idAdjunt']}")
    rest = client.get("/adjunts-pendents").json()
    assert rest["mesAdjunts"] is False and 20 <= len(rest["adjunts"]) <= 24


def test_new_invoices_join_the_end_of_the_queue(sim, client) -> None:
    """Invoices registered while running appear after the older ones."""
    before = [f["id"] for f in client.get("/factures-pendents").json()["factures"]]
    new = sim.hub.add_invoices(3)
    after = [f["id"] for f in client.get("/factures-pendents").json()["factures"]]
    assert after == before + new
    assert all(int(n) > int(before[-1]) for n in new)
    detail = client.get(f"/factura/{new[0]}").json()
    assert detail["estat"] == "REGISTERED" and detail["numeroRegistre"].startswith("E")
