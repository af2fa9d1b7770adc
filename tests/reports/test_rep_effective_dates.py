"""Effective dates: a state counts from the date of the legal fact (the payment date, the
accounting system's date), not from the moment the hub recorded it through rcflow's push."""

from __future__ import annotations

import json
from datetime import date

from rep_scenarios import E1


def test_a_payment_pushed_in_november_counts_in_october(late_push):
    """Paid 20-10, recorded on the hub on 01-11 (dataPagament 20-10): paid in October's PMP
    (19 days from registry), and in no way part of November's."""
    october = late_push.october.invoice("late_paid")
    assert (october["pmp_role"], october["status"], october["payment_on"]) == (
        "paid", "PAID", date(2025, 10, 20))
    assert (october["pmp_days"], october["is_payment_date_inferred"]) == (19, False)
    november = late_push.november.invoice("late_paid")
    assert (november["pmp_role"], november["status"]) == (None, "PAID")


def test_a_late_fact_dated_inside_a_past_period_changes_it(late_push):
    """Before the payment was known October counted the invoice pending (30 days); once it
    arrives, the same October is re-computed with it. Only the data changed."""
    before = late_push.october_before.invoice("late_paid")
    assert (before["pmp_role"], before["pmp_days"], before["status"]) == (
        "pending", 30, "RECOGNISED")
    assert late_push.october_before.row("pmp.csv", entity_nif=E1)["pmp"] == "21.70"
    # paid: late_paid 1000 × 19, paid_acct_only 2000 × 24; pending: accepted_acct
    # 3000 × 25, accepted_pushed 4000 × 16
    row = late_push.october.row("pmp.csv", entity_nif=E1)
    assert {k: row[k] for k in ("period", "paid_count", "paid_amount", "paid_ratio",
                                "pending_count", "pending_amount", "pending_ratio", "pmp")} == {
        "period": "2025-10",
        "paid_count": "2", "paid_amount": "3000.00", "paid_ratio": "22.33",
        "pending_count": "2", "pending_amount": "7000.00", "pending_ratio": "19.86",
        "pmp": "20.60",
    }  # fmt: skip


def test_accepted_only_in_accounting_starts_the_count(late_push):
    """Conformity recorded by the accounting system on 06-10 and not on the hub: the start of
    the count (RD 1040/2017), not an inferred one; the update is owed to the hub."""
    row = late_push.october.invoice("accepted_acct")
    assert (row["start_on"], row["start_basis"], row["is_start_inferred"]) == (
        date(2025, 10, 6), "acceptance", False)
    assert (row["status"], row["pmp_role"], row["pmp_days"]) == ("ACCEPTED", "pending", 25)
    assert row["owed_to_hub_states"] == "ACCEPTED"


def test_accepted_pushed_later_keeps_its_accounting_date(late_push):
    """The hub recorded ACCEPTED on 03-11 (the push); the accounting system dated it 15-10:
    accepted at the end of October, counted from 15-10, nothing owed."""
    row = late_push.october.invoice("accepted_pushed")
    assert (row["status"], row["start_on"], row["pmp_days"]) == (
        "ACCEPTED", date(2025, 10, 15), 16)
    assert row["owed_to_hub_count"] == 0


def test_paid_in_accounting_only_is_paid_and_still_owed(late_push):
    """The entity's registry is the legal source: paid on 25-10 for the PMP, and the PAID
    update is owed to the hub until it shows it."""
    row = late_push.october.invoice("paid_acct_only")
    assert (row["pmp_role"], row["payment_on"], row["pmp_days"]) == (
        "paid", date(2025, 10, 25), 24)
    found = {(r["invoice_id"], r["state"]): r for r in late_push.october.csv("obligations.csv")}
    assert found["paid_acct_only", "PAID"]["obligation"] == "owed_to_hub"
    assert found["paid_acct_only", "PAID"]["is_blocked_by_final_state"] == "false"


def test_what_the_hub_shows_now_is_not_owed(late_push):
    """Owed = dated by the period end in accounting and still missing on the hub now: the
    states pushed in November are not owed for October, however late they arrived."""
    owed = {(r["invoice_id"], r["state"]) for r in late_push.october.csv("obligations.csv")
            if r["obligation"] == "owed_to_hub"}  # fmt: skip
    assert owed == {("accepted_acct", "ACCEPTED"), ("paid_acct_only", "PAID")}
    assert late_push.october.result.headline["updates_owed_to_hub"] == 2
    assert late_push.november.result.headline["paid_count"] == 0


def test_the_reading_is_printed(late_push):
    """The date reading is in the report's legal-reading section and in report.json."""
    page = (late_push.october.out / "report.html").read_text(encoding="utf-8")
    assert "effective date" in page and "dataPagament" in page
    meta = json.loads((late_push.october.out / "report.json").read_text(encoding="utf-8"))
    assert any("owed to the hub" in line for line in meta["dates"])
