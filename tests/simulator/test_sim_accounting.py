"""The simulated accounting system's events respect the lifecycle and the calendar."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from rcflow.connectors.efact.simulator import Hub, SimConfig
from rcflow.connectors.efact.simulator.accounting import simulate_accounting_events
from rcflow.connectors.efact.simulator.clock import madrid_date
from rcflow.connectors.efact.states import State, rank

TODAY = date(2025, 6, 30)


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    hub = Hub(SimConfig(seed=4, invoices=3_000, backfill=400, today=TODAY))
    rows = [
        (i.id, madrid_date(i.registry_ms) if i.registry_ms else None, i.amount_cents / 100,
         i.state.value)
        for i in hub.invoices.values()
    ]
    invoices = pl.DataFrame(rows, schema=["invoice_id", "registry_date", "amount", "hub_state"],
                            orient="row")
    return invoices, simulate_accounting_events(invoices, seed=4, today=TODAY)


def test_columns_and_types(frames) -> None:
    _, events = frames
    assert events.columns == ["invoice_id", "state", "date", "rcf_number", "reason_code",
                              "reason"]
    assert events.schema["date"] == pl.Date
    assert events.height > 3_000


def test_dates_within_registry_and_today(frames) -> None:
    """No event before its registry date, none in the future."""
    invoices, events = frames
    joined = events.join(invoices.select("invoice_id", "registry_date"), on="invoice_id")
    assert joined.filter(pl.col("date") < pl.col("registry_date")).is_empty()
    assert events["date"].max() <= TODAY


def test_lifecycle_order(frames) -> None:
    """States strictly climb the lifecycle, dates never go back, nothing follows REJECTED."""
    _, events = frames
    for (_invoice_id,), group in events.group_by(["invoice_id"], maintain_order=True):
        states = [State(s) for s in group["state"]]
        dates = list(group["date"])
        ranks = [rank(s) for s in states]
        assert ranks == sorted(set(ranks)), states
        assert dates == sorted(dates), (states, dates)
        assert states[0] in (State.ANNOTATED, State.REJECTED)
        if State.REJECTED in states:
            assert states[-1] is State.REJECTED


def test_realistic_shares(frames) -> None:
    """Most invoices are annotated within days; ~3% rejected; many paid, some never recognised."""
    invoices, events = frames
    candidates = invoices.filter(pl.col("hub_state").is_in(["REGISTERED"])).height
    counts = dict(events.group_by("state").len().iter_rows())
    assert 0.01 < counts["REJECTED"] / candidates < 0.06
    assert counts["PAID"] > counts["ANNOTATED"] * 0.5
    assert counts["RECOGNISED"] < counts["ANNOTATED"]
    annotated = events.filter(pl.col("state") == "ANNOTATED").join(
        invoices.select("invoice_id", "registry_date"), on="invoice_id")
    lag = (annotated["date"] - annotated["registry_date"]).dt.total_days()
    assert (lag <= 4).mean() > 0.6
    assert annotated["rcf_number"].str.contains(r"^RCF-\d{4}-\d{6}$").all()
    assert annotated["rcf_number"].n_unique() == annotated.height
    rejected = events.filter(pl.col("state") == "REJECTED")
    assert rejected["reason"].null_count() == 0 and rejected["reason_code"].null_count() == 0
    paid = events.filter(pl.col("state") == "PAID")
    accepted = events.filter(pl.col("state") == "ACCEPTED").select(
        "invoice_id", pl.col("date").alias("accepted"))
    pay_lag = paid.join(accepted, on="invoice_id")
    days = (pay_lag["date"] - pay_lag["accepted"]).dt.total_days()
    assert (days > 30).any() and (days <= 30).any()


def test_consistent_with_hub_states(frames) -> None:
    """Invoices the hub holds far along have their states; hub-rejected ones get no events."""
    invoices, events = frames
    by_invoice = {k[0]: set(g["state"]) for k, g in events.group_by(["invoice_id"])}
    for invoice_id, hub_state in invoices.select("invoice_id", "hub_state").iter_rows():
        if hub_state == "REJECTED" or hub_state == "SENT":
            assert invoice_id not in by_invoice
        elif hub_state in ("ANNOTATED", "RECOGNISED", "PAID"):
            assert hub_state in by_invoice[invoice_id]


def test_deterministic_and_credit_notes_unpaid(frames) -> None:
    invoices, events = frames
    assert simulate_accounting_events(invoices, seed=4, today=TODAY).equals(events)
    assert not simulate_accounting_events(invoices, seed=5, today=TODAY).equals(events)
    credit = invoices.filter((pl.col("amount") <= 0) & (pl.col("hub_state") == "REGISTERED"))
    paid_credit = events.filter(pl.col("state") == "PAID").join(credit, on="invoice_id")
    assert paid_credit.is_empty()
