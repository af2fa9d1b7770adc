"""Faults (random and targeted), the request log and the /_sim control endpoints."""

from __future__ import annotations

import time

import httpx
import pytest

from rcflow.connectors.efact.simulator import Faults


def test_latency(sim, client) -> None:
    """latency_ms delays every API answer."""
    sim.hub.faults = Faults(latency_ms=120)
    started = time.monotonic()
    assert client.get("/ens").status_code == 200
    assert time.monotonic() - started >= 0.11
    sim.hub.faults = Faults()
    started = time.monotonic()
    client.get("/ens")
    assert time.monotonic() - started < 0.1


def test_latency_runs_from_the_arrival_with_the_hubs_work_inside_it(sim, client, monkeypatch) -> None:
    """An answer leaves ``latency_ms`` after its request arrived however long the hub worked on
    it, as a hub working on requests in parallel answers; the work is done when it arrives."""
    handle = type(sim._app)._handle
    worked_at: list[float] = []

    def slow_handle(self, *args):
        time.sleep(0.3)  # the hub's own work, as long as most of the latency
        worked_at.append(time.monotonic())
        return handle(self, *args)

    monkeypatch.setattr(type(sim._app), "_handle", slow_handle)
    sim.hub.faults = Faults(latency_ms=400)
    started = time.monotonic()
    assert client.get("/ens").status_code == 200
    answered = time.monotonic() - started
    assert 0.39 <= answered < 0.6  # the latency, not the latency plus the work (0.7 s)
    assert worked_at[0] - started < 0.39  # worked on before the latency ran out


def test_error_rate_gives_500s(sim, client, error_code) -> None:
    """error_rate=1 answers 500 with 9999 or 9001, and the request is not handled."""
    sim.hub.faults = Faults(error_rate=1.0)
    invoice_id = sim.hub.pending_ids()[0]
    codes = set()
    for _ in range(30):
        response = client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
        assert response.status_code == 500
        codes.add(error_code(response))
    assert codes == {9999, 9001}
    assert sim.hub.invoices[invoice_id].pending


def test_drop_rate_closes_connections(sim, client) -> None:
    """drop_rate=1: the client sees protocol/read errors, never an answer."""
    sim.hub.faults = Faults(drop_rate=1.0)
    for _ in range(6):
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.get("/ens")
    assert {r.status for r in sim.hub.log.records()} <= {0, 200}
    assert all(r.fault and r.fault.startswith("random:") for r in sim.hub.log.records())


def test_slow_body_is_trickled(sim, client) -> None:
    """slow_body_rate=1: the body arrives in delayed pieces, complete."""
    sim.hub.faults = Faults(slow_body_rate=1.0, slow_chunk_delay_ms=20)
    expected = client.get("/ens")  # slow as well
    started = time.monotonic()
    response = client.get("/ens")
    assert time.monotonic() - started >= 0.1
    assert response.json() == expected.json()


def test_injection_hits_only_matching_requests(sim, client) -> None:
    """inject(method, path_regex, status, times) fails exactly the next N matching calls."""
    hub = sim.hub
    injection = hub.inject(method="PATCH", path_regex=r"/factura/\d+$", status=500, times=2)
    invoice_id = hub.pending_ids()[0]
    assert client.get(f"/factura/{invoice_id}").status_code == 200  # GET does not match
    statuses = [client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"}).status_code
                for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert injection.hits == 2 and injection.exhausted


def test_injection_custom_status_and_code(sim, client, error_code) -> None:
    """An injected 401 1008 models an expired token; 503 with a body models a proxy page."""
    sim.hub.inject("GET", "/ens$", status=401, code=1008)
    response = client.get("/ens")
    assert (response.status_code, error_code(response)) == (401, 1008)
    sim.hub.inject("GET", "/ens$", status=503, body=b"<html>busy</html>",
                   headers={"Retry-After": "1", "Content-Type": "text/html"})
    response = client.get("/ens")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    sim.hub.inject("GET", "/rebut$", status=500, code=9002)
    invoice_id = sim.hub.pending_ids()[0]
    assert error_code(client.get(f"/factura/{invoice_id}/rebut")) == 9002
    assert client.get(f"/factura/{invoice_id}/rebut").status_code == 200


def test_drop_before_does_not_apply_the_update(sim, client) -> None:
    """drop=True (before): connection closed, the PATCH never happened."""
    invoice_id = sim.hub.pending_ids()[0]
    sim.hub.inject("PATCH", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    assert sim.hub.invoices[invoice_id].pending


def test_lost_answer_after_update_makes_the_retry_a_3007(sim, client, error_code) -> None:
    """after=True: the state changed but the answer was lost; a blind retry sees 3007."""
    hub = sim.hub
    invoice_id = hub.pending_ids()[0]
    hub.inject("PATCH", rf"/factura/{invoice_id}$", drop=True, after=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    assert not hub.invoices[invoice_id].pending
    retry = client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    assert (retry.status_code, error_code(retry)) == (400, 3007)
    patches = hub.log.find("PATCH", rf"/factura/{invoice_id}$")
    assert [r.status for r in patches] == [0, 400]
    assert patches[0].body == {"estat": "DELIVERED"} and patches[0].fault == "inject:drop"


def test_partial_body(sim, client) -> None:
    """partial=True sends headers and half the body, then closes."""
    invoice_id = sim.hub.pending_ids()[0]
    sim.hub.inject("GET", r"/facturae$", partial=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/factura/{invoice_id}/facturae")
    assert client.get(f"/factura/{invoice_id}/facturae").status_code == 200


def test_request_log_records_everything(sim, client) -> None:
    """The log keeps method, path, query, status, codiError, ids and PATCH bodies, in order."""
    hub = sim.hub
    hub.log.clear()
    invoice_id = hub.pending_ids()[0]
    client.get("/factures-pendents", params={"nif": "ESQ0801552A"})
    client.patch(f"/factura/{invoice_id}", json={"estat": "ANNOTATED ", "numeroRegistreRCF": "X"})
    client.get("/factura/5")
    httpx.get(f"{sim.base_url}/ens")
    records = hub.log.records()
    assert [r.seq for r in records] == sorted(r.seq for r in records)
    assert [r.at for r in records] == sorted(r.at for r in records)
    first, patch, missing, unauthorised = records
    assert (first.method, first.path, first.query) == ("GET", "/factures-pendents",
                                                       "nif=ESQ0801552A")
    assert (patch.invoice_id, patch.status, patch.body) == (
        invoice_id, 200, {"estat": "ANNOTATED ", "numeroRegistreRCF": "X"})
    assert (missing.status, int(missing.code), missing.invoice_id) == (404, 2001, "5")
    assert (unauthorised.status, int(unauthorised.code)) == (401, 1001)
    assert all(r.duration_ms >= 0 for r in records)


def test_admin_endpoints(sim, client) -> None:
    """/_sim: log, state, faults, inject, reset-log, stats; no token needed."""
    hub = sim.hub
    invoice_id = hub.pending_ids()[0]
    client.patch(f"/factura/{invoice_id}", json={"estat": "DELIVERED"})
    admin = sim.admin_url
    log = httpx.get(f"{admin}/log").json()["records"]
    assert log[-1]["method"] == "PATCH" and log[-1]["body"] == {"estat": "DELIVERED"}
    assert httpx.get(f"{admin}/log", params={"since": log[-1]["seq"]}).json()["records"] == []
    state = httpx.get(f"{admin}/state/{invoice_id}").json()
    assert state["estat"] == "DELIVERED" and state["pending"] is False
    assert [h["estat"] for h in state["history"]] == ["SENT", "REGISTERED", "DELIVERED"]
    assert httpx.get(f"{admin}/state/1").status_code == 404
    faults = httpx.post(f"{admin}/faults", json={"latency_ms": 5, "error_rate": 0.5}).json()
    assert faults["latency_ms"] == 5 and hub.faults.error_rate == 0.5
    assert httpx.post(f"{admin}/faults", json={"error_rate": 3}).status_code == 400
    httpx.post(f"{admin}/faults", json={})
    httpx.post(f"{admin}/inject", json={"method": "GET", "path_regex": "/ens$", "status": 500})
    assert client.get("/ens").status_code == 500
    stats = httpx.get(f"{admin}/stats").json()
    assert stats["requests"] >= 2 and stats["byStatus"]["500"] == 1
    assert stats["pending"] == len(hub.pending_ids())
    assert httpx.post(f"{admin}/reset-log").json() == {"ok": True}
    assert len(hub.log) == 0
    added = httpx.post(f"{admin}/add-invoices", json={"count": 2}).json()["ids"]
    assert added == hub.pending_ids()[-2:]
