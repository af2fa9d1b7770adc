"""One bad invoice is quarantined or deferred and reported; it never crashes the batch.

Each test makes one invoice odd the way a hub (or a front before it) can: a Facturae whose amounts
overflow the warehouse's int64 columns, a detail listing one attachment twice, an acknowledgement
refused with a state rcflow does not know, a pending entry without id, a detail carrying another id.
The run must store and acknowledge every other invoice, and say what happened to that one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from invariants import acknowledged_on_hub, pending_left, warehouse_rows
from sync_support import make_settings

from rcflow.config import Settings
from rcflow.connectors.efact.connector import EfactConnector
from rcflow.connectors.efact.simulator.front import RunningFront
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import HubRuns, run_sync
from rcflow.ingest.sync import SyncSummary


@pytest.fixture
def settings(sim: RunningSimulator, front: RunningFront, tmp_path: Path) -> Settings:
    """rcflow pointed at the front, which rewrites the answers a test picks."""
    return make_settings(sim, tmp_path, hub_url=front.base_url, concurrency=4, max_retries=1)


def sync(settings: Settings) -> SyncSummary:
    return asyncio.run(run_sync(settings))


def stored_ids(settings: Settings) -> set[str]:
    return {r[0] for r in warehouse_rows(settings, "select invoice_id from raw.invoices")}


def reasons_for(summary: SyncSummary, invoice_id: str) -> list[str]:
    return [d["reason"] for d in summary.deferred if d["invoice_id"] == invoice_id]


# --------------------------------------------------------------------------- int64 overflow

_HUGE_TAX = (
    b"<Tax><TaxTypeCode>01</TaxTypeCode><TaxRate>21.00</TaxRate><TaxableBase><TotalAmount>1.00"
    b"</TotalAmount></TaxableBase><TaxAmount><TotalAmount>9999999999999999.99</TotalAmount>"
    b"</TaxAmount></Tax>"
)
# The invoice-level taxes (the file's first TaxesOutputs) become ten huge ones, and the declared
# total goes, so the parser sums them: each fits int64 cents, the sum does not.
_OVERFLOW = (
    rb"(?s)<TaxesOutputs>.*?</TaxesOutputs>(.*?)<TotalTaxOutputs>[^<]*</TotalTaxOutputs>",
    b"<TaxesOutputs>" + _HUGE_TAX * 10 + rb"</TaxesOutputs>\1",
)


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
def test_a_facturae_overflowing_int64_is_quarantined_and_the_batch_stored(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    ids = sim.hub.pending_ids()
    bad = ids[2]
    front.add("rewrite", rf"^/factura/{bad}/facturae$", rewrite=_OVERFLOW)
    summary = sync(settings)
    assert summary.quarantined == 1 and summary.invoices_seen == len(ids)
    assert stored_ids(settings) == set(ids) == acknowledged_on_hub(sim)
    status, error = warehouse_rows(
        settings, f"select parse_status, parse_error from raw.facturae_documents where invoice_id = '{bad}'"
    )[0]
    assert status == "quarantined" and error.startswith("bad_value:") and "out of range" in error
    assert pending_left(sim) == 0 and sync(settings).ok  # nothing left to crash the next run


# --------------------------------------------------------------------------- repeated attachment


def _with_attachments(sim: RunningSimulator) -> str:
    return next(i for i in sim.hub.pending_ids() if sim.hub.invoices[i].attachments)


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
@pytest.mark.parametrize(
    ("repeat", "conflict"),
    [
        (rb'"adjunts":[\1,\1', False),  # the hub's join repeating a row
        (rb'"adjunts":[\1,"nom":"another name.pdf"},\1', True),  # one id, two names
    ],
    ids=["identical", "conflicting"],
)
def test_an_attachment_listed_twice_in_the_detail_is_stored_once(
    sim: RunningSimulator,
    front: RunningFront,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    repeat: bytes,
    conflict: bool,
) -> None:
    ids = sim.hub.pending_ids()
    invoice_id = _with_attachments(sim)
    first = sim.hub.invoices[invoice_id].attachments[0].id
    entry = rb'(\{"idAdjunt":"[^"]+")' if conflict else rb'(\{"idAdjunt":"[^"]+"[^}]*\})'
    front.add("rewrite", rf"^/factura/{invoice_id}$", rewrite=(rb'"adjunts":\[' + entry, repeat))
    with caplog.at_level("WARNING", logger="rcflow.connectors.efact"):
        summary = sync(settings)
    assert summary.ok, summary.deferred
    assert stored_ids(settings) == set(ids) == acknowledged_on_hub(sim)
    rows = warehouse_rows(
        settings, f"select invoice_id, name from raw.attachments where attachment_id = '{first}'"
    )
    assert len(rows) == 1 and rows[0][0] == invoice_id
    warned = [r.getMessage() for r in caplog.records if first in r.getMessage()]
    if conflict:
        assert rows[0][1] == "another name.pdf" and warned and "kept the first" in warned[0]
    else:
        assert not warned


# --------------------------------------------------------------------------- acknowledgement


def delivered_at(settings: Settings) -> dict[str, object]:
    return dict(warehouse_rows(settings, "select invoice_id, delivered_at from raw.invoices"))


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
def test_a_3007_with_a_state_rcflow_does_not_know_defers_that_invoice_only(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    ids = sim.hub.pending_ids()
    odd = ids[3]
    sim.hub.inject("PATCH", rf"^/factura/{odd}$", status=400, code=3007, times=None)
    front.add("rewrite", rf"^/factura/{odd}$", rewrite=(rb'"estat":"[^"]*"', b'"estat":"DESCARREGADA"'))
    for _ in range(2):  # and the next run, with the invoice still pending, neither crashes
        summary = sync(settings)
        assert [d["invoice_id"] for d in summary.deferred] == [odd]
        assert "3007" in reasons_for(summary, odd)[0] and "'DESCARREGADA'" in reasons_for(summary, odd)[0]
    assert odd in sim.hub.pending_ids() and odd not in acknowledged_on_hub(sim)
    assert acknowledged_on_hub(sim) == set(ids) - {odd}
    recorded = delivered_at(settings)
    assert recorded.keys() == set(ids) and recorded[odd] is None
    assert all(recorded[i] is not None for i in set(ids) - {odd})  # the batch's answers recorded


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
def test_an_acknowledgement_raising_for_one_invoice_still_records_the_others(
    sim: RunningSimulator, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = sim.hub.pending_ids()
    odd = ids[1]
    acknowledge = EfactConnector.acknowledge

    async def raising_for_one(self: EfactConnector, invoice_id: str) -> object:
        if invoice_id == odd:
            raise RuntimeError("an answer the connector could not read")
        return await acknowledge(self, invoice_id)

    monkeypatch.setattr(EfactConnector, "acknowledge", raising_for_one)
    summary = sync(settings)
    assert [d["invoice_id"] for d in summary.deferred] == [odd]
    assert "RuntimeError" in reasons_for(summary, odd)[0]
    recorded = delivered_at(settings)
    assert recorded[odd] is None and all(recorded[i] is not None for i in set(ids) - {odd})
    assert acknowledged_on_hub(sim) == set(ids) - {odd}


# --------------------------------------------------------------------------- pending entry without id


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
def test_pending_entries_without_an_id_are_skipped_with_a_warning_and_the_page_processed(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    ids = sim.hub.pending_ids()
    no_ids = b'"factures":[{"id":null,"nif":"ESP0830700A"},{"id":""},{"id":"  "},'
    front.add("rewrite", r"^/factures-pendents$", rewrite=(rb'"factures":\[', no_ids))
    summary = sync(settings)
    assert summary.ok, summary.deferred
    assert summary.pending_entries_skipped == 3
    assert summary.warnings == [
        "3 entries of the pending list have no invoice id: skipped, they stay on the hub"
    ]
    assert stored_ids(settings) == set(ids) == acknowledged_on_hub(sim)
    assert summary.as_dict()["pending_entries_skipped"] == 3
    # The command's totals over its hubs carry the warning too, naming the hub.
    totals = HubRuns("sync", {"efact": summary}).as_dict()
    assert (totals["pending_entries_skipped"], totals["warnings"]) == (3, [f"efact: {summary.warnings[0]}"])


# --------------------------------------------------------------------------- detail of another id


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
@pytest.mark.parametrize("other", ["zero-padded", "another invoice"])
def test_a_detail_carrying_another_id_defers_the_invoice_asked_for(
    sim: RunningSimulator, front: RunningFront, settings: Settings, other: str
) -> None:
    ids = sim.hub.pending_ids()
    asked, real = ids[2], ids[0]
    # Ids are the hub's text, compared as listed: "0159700002" is not "159700002".
    carried = "0" + asked if other == "zero-padded" else real
    front.add(
        "rewrite", rf"^/factura/{asked}$", rewrite=(f'"id":"{asked}"'.encode(), f'"id":"{carried}"'.encode())
    )
    summary = sync(settings)
    assert [d["invoice_id"] for d in summary.deferred] == [asked]
    assert f"detail of invoice '{carried}', not '{asked}'" in reasons_for(summary, asked)[0]
    assert asked in sim.hub.pending_ids() and asked not in acknowledged_on_hub(sim)
    assert stored_ids(settings) == set(ids) - {asked} == acknowledged_on_hub(sim)  # no row under `carried`
    number = warehouse_rows(settings, f"select invoice_number from raw.invoices where invoice_id = '{real}'")
    assert number == [(sim.hub.detail(real)["numeroFactura"],)]  # the real invoice's row is its own
    front.clear()
    assert sync(settings).ok and stored_ids(settings) == set(ids)  # fixed on the hub: stored next run


# --------------------------------------------------------------------------- hub amount out of range


@pytest.mark.sim(invoices=8, late_attachment_rate=0.0)
@pytest.mark.parametrize("amount", [b"1e30", b"92233720368547758.08", b'"-1e999999"'])
def test_a_detail_amount_out_of_int64_cents_defers_that_invoice_only(
    sim: RunningSimulator, front: RunningFront, settings: Settings, amount: bytes
) -> None:
    ids = sim.hub.pending_ids()
    odd = ids[4]
    rewrite = (rb'"importFactura":[^,}]+', b'"importFactura":' + amount)
    front.add("rewrite", rf"^/factura/{odd}$", rewrite=rewrite)
    summary = sync(settings)
    assert [d["invoice_id"] for d in summary.deferred] == [odd]
    assert "importFactura" in reasons_for(summary, odd)[0]
    assert stored_ids(settings) == set(ids) - {odd} == acknowledged_on_hub(sim)
