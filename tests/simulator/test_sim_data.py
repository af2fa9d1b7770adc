"""The seeded dataset: reproducible, valid identifiers, plausible dates, small at scale."""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from datetime import date, timedelta

from stdnum.es import cif, nie, nif
from stdnum.eu import vat

from rcflow.connectors.efact.simulator import Hub, SimConfig
from rcflow.connectors.efact.simulator.clock import madrid_date
from rcflow.connectors.efact.simulator.documents import attachment_body
from rcflow.connectors.efact.simulator.facturae import render_facturae
from rcflow.connectors.efact.states import State

TODAY = date(2025, 6, 30)


def _fingerprint(hub: Hub) -> list[tuple]:
    return [
        (i.id, i.number, i.registry_number, i.registry_ms, i.amount_cents, i.supplier.nif,
         i.office, [(e.state, e.at_ms) for e in i.history], [(a.id, a.name) for a in i.attachments])
        for i in hub.invoices.values()
    ]


def test_same_inputs_same_data() -> None:
    """Seed, counts and today fully determine invoices, XML and attachment bytes."""
    cfg = SimConfig(seed=11, invoices=150, today=TODAY, hostile_rate=0.05)
    a, b = Hub(cfg), Hub(cfg)
    assert _fingerprint(a) == _fingerprint(b)
    some = list(a.invoices)[::17]
    assert all(a.facturae(i) == b.facturae(i) for i in some)
    att = next(iter(a.attachments.values()))
    assert attachment_body(att, a.invoices[att.invoice_id], 11).read() == \
        attachment_body(b.attachments[att.id], b.invoices[att.invoice_id], 11).read()
    other = Hub(cfg.with_(seed=12))
    assert _fingerprint(other) != _fingerprint(a)
    assert render_facturae(a.invoices[some[0]], 11) != render_facturae(a.invoices[some[0]], 12)


def test_identifiers_are_valid() -> None:
    """Entity CIFs (P/Q/S), supplier DNI/NIE/CIF and EU VAT numbers pass python-stdnum."""
    hub = Hub(SimConfig(seed=3, invoices=900, today=TODAY))
    for entity in hub.data.entities:
        assert entity.cif[0] in "PQS" and cif.is_valid(entity.cif)
        assert entity.nif == "ES" + entity.cif
        assert len(entity.ine10) == 10
        for office in entity.offices:
            assert all(len(code) == 9 for code in (office.accounting, office.managing,
                                                   office.processing))
    kinds = set()
    for s in hub.data.suppliers:
        if s.residence == "U":
            kinds.add("eu")
            assert vat.is_valid(s.tax_id) and s.nif == s.tax_id
        elif s.tax_id[0] in "XYZ":
            kinds.add("nie")
            assert nie.is_valid(s.tax_id) and s.individual
        elif s.tax_id[0].isdigit():
            kinds.add("dni")
            assert nif.is_valid(s.tax_id) and s.individual
        else:
            kinds.add("cif")
            assert cif.is_valid(s.tax_id) and not s.individual
        if s.residence != "U":
            assert s.nif == "ES" + s.tax_id
        assert s.iban.startswith("ES") and len(s.iban) == 24
    assert kinds == {"eu", "nie", "dni", "cif"}
    assert any(not name.isascii() for name in (s.name for s in hub.data.suppliers))


def test_dates_are_plausible() -> None:
    """Registries within ~15 months before today, issue dates before registry, history ordered."""
    hub = Hub(SimConfig(seed=5, invoices=600, backfill=200, today=TODAY))
    numbers = set()
    for inv in hub.invoices.values():
        moments = [e.at_ms for e in inv.history]
        assert moments == sorted(moments)
        assert madrid_date(moments[-1]) < TODAY
        if inv.registry_ms is None:
            assert inv.registry_number is None
            continue
        registered = madrid_date(inv.registry_ms)
        assert TODAY - timedelta(days=460) <= registered < TODAY
        assert inv.issue_date <= registered
        assert inv.sent_ms < inv.registry_ms
        assert inv.registry_number not in numbers
        numbers.add(inv.registry_number)
    states = {inv.state for inv in hub.invoices.values()}
    assert states >= {State.REGISTERED, State.ANNOTATED, State.PAID, State.REJECTED, State.SENT}
    paid = [inv.last(State.PAID) for inv in hub.invoices.values() if inv.state is State.PAID]
    assert any(p.payment_date is None for p in paid) and any(p.payment_date for p in paid)


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def test_twenty_thousand_invoices_start_fast_and_small(_server, client) -> None:
    """A 20,000-invoice hub builds and serves within seconds and adds well under 200 MB."""
    gc.collect()
    before = _rss_bytes()
    started = time.perf_counter()
    hub = _server.reset(SimConfig(seed=1, invoices=20_000, today=TODAY,
                                  issuers=_server.config.issuers))
    page = client.get("/factures-pendents").json()
    elapsed = time.perf_counter() - started
    assert len(page["factures"]) == 500 and page["mesFactures"] is True
    assert len(hub.pending_ids()) == 20_000 and len(hub.attachments) > 15_000
    assert elapsed < 10, elapsed
    after = _rss_bytes()
    if before is not None and after is not None:
        assert after - before < 200 * 2**20, (after - before) / 2**20


def test_memory_per_invoice_is_compact() -> None:
    """Traced allocations stay around a few kilobytes per invoice (so linear growth is small)."""
    gc.collect()
    tracemalloc.start()
    try:
        hub = Hub(SimConfig(seed=2, invoices=2_000, today=TODAY))
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_invoice = current / len(hub.invoices)
    assert per_invoice < 6_000, per_invoice
