"""Legal figures at the rules' edges, through one real build, each checked by hand and by the
oracle: invoices issued before 2014 (out of the PMP only), a quarantined invoice whose Facturae
total has the wrong sign (counts with the hub's amount), an invoice never conformed (interest
due at registry + 60), a ratio exactly on a half hundredth (rounded the same everywhere) and an
entity with no invoice at all (zeros in both reports)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import oracle
import oracle_compare
import pytest
from rep_builder import Built, Inv, load

from rcflow import clock
from rcflow.reports import build_reports
from rcflow.warehouse import Warehouse, snapshot_path_for

ROUND, OLD, XML, UNCONFORMED, EMPTY = "P0800201A", "P0800202B", "P0800203C", "P0800204D", "P0800205E"
TODAY = "2025-05-02T10:00:00Z"  # 2025-Q1 is closed: figures as of 31-03-2025
d = date


def _invoices() -> list[Inv]:
    return [
        # 199 € at 20 days and 1 € at 25: PMP 4005 / 200 = 20.025 exactly.
        Inv("r20_a", ROUND, 199, d(2025, 1, 2), {"ACCEPTED": d(2025, 1, 2), "PAID": d(2025, 1, 22)}),
        Inv("r20_b", ROUND, 1, d(2025, 1, 2), {"ACCEPTED": d(2025, 1, 2), "PAID": d(2025, 1, 27)}),
        # Issued in December 2013, never conformed: one paid late in Q1-2025, one still unpaid.
        Inv("old_paid", OLD, 1000, d(2013, 12, 27), {"ANNOTATED": d(2013, 12, 28), "PAID": d(2025, 2, 14)},
            issue_date=d(2013, 12, 20)),
        Inv("old_pending", OLD, 2000, d(2013, 12, 27), {"ANNOTATED": d(2013, 12, 28)},
            issue_date=d(2013, 12, 20)),
        # The hub says +1,500 €; its Facturae total is rewritten to -1,500 € below (quarantined).
        Inv("xml_negative", XML, 1500, d(2025, 1, 10), {"ANNOTATED": d(2025, 1, 11),
                                                        "ACCEPTED": d(2025, 1, 15)}),
        # Never conformed: unpaid at 31-03, and one paid 50 days after registry.
        Inv("unconformed", UNCONFORMED, 10000, d(2025, 1, 10), {"ANNOTATED": d(2025, 1, 11)}),
        Inv("unconformed_paid", UNCONFORMED, 10000, d(2025, 1, 10), {"ANNOTATED": d(2025, 1, 11),
                                                                     "PAID": d(2025, 3, 1)}),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("legal-edges")
    entities = [(ROUND, "Ens arrodoniment"), (OLD, "Ens 2013"), (XML, "Ens XML"),
                (UNCONFORMED, "Ens sense conformitat"), (EMPTY, "Ens sense factures")]  # fmt: skip
    warehouse = load(root / "warehouse.duckdb", _invoices(), entities=entities,
                     quarantine=[("xml_negative", "quality", "amount_mismatch")])  # fmt: skip
    with Warehouse(warehouse, lock_timeout=30) as wh:
        wh.con.execute("update raw.facturae_documents set total_cents = -150000 "
                       "where invoice_id = 'xml_negative'")  # fmt: skip
    with clock.pinned(TODAY):
        result = build_reports(warehouse, "2025-Q1", root / "out",
                               reports_db=root / "out" / "reports.duckdb")  # fmt: skip
    return Built(result, root / "out")


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _interest(principal: int, due: date, to: date) -> Decimal:
    """§5 by hand: each day after ``due`` up to ``to`` at its half-year's rate, base 365."""
    total, day = Decimal(0), due + timedelta(days=1)
    while day <= to:
        total += principal * oracle.legal_rate(day) / 100 / 365
        day += timedelta(days=1)
    return total


def test_a_ratio_on_a_half_hundredth_is_rounded_up_in_every_output(built):
    """4005 / 200 = 20.025: half away from zero gives 20.03 in the mart, both CSVs and the page
    (as a DOUBLE cast to DECIMAL it was 20.02 in the CSVs and 20.03 on the page)."""
    assert built.query(f"select pmp from main.pmp where entity_nif = '{ROUND}'") == [
        {"pmp": Decimal("20.03")}]
    pmp = built.row("pmp.csv", entity_nif=ROUND)
    assert (pmp["paid_ratio"], pmp["pmp"]) == ("20.03", "20.03")
    assert built.row("morosity.csv", entity_nif=ROUND)["pmp_days"] == "20.03"
    page = (built.out / "report.html").read_text(encoding="utf-8")
    assert "20.03" in page and "20.02" not in page


def test_invoices_issued_before_2014_leave_the_pmp_only(built):
    """§4 case 20 puts them out of the PMP scope; the Ley 3/2004 has no such start, so they are
    late in morosity and accrue interest from registry + 60 (never conformed, §5.2)."""
    assert built.row("pmp.csv", entity_nif=OLD)["paid_count"] == "0"
    assert built.row("pmp.csv", entity_nif=OLD)["scope_excluded_count"] == "2"
    listed = {r["invoice_id"]: (r["reason"], r["source"]) for r in built.csv("scope_exclusions.csv")}
    assert listed["old_paid"] == listed["old_pending"] == ("issued_before_scope", "issue_date")
    morosity = built.row("morosity.csv", entity_nif=OLD)
    assert (morosity["paid_late_count"], morosity["paid_late_amount"]) == ("1", "1000.00")
    assert (morosity["pending_late_count"], morosity["pending_late_amount"]) == ("1", "2000.00")
    due = d(2014, 2, 25)  # registered 27-12-2013 + 60
    for iid, principal, to in (("old_paid", 1000, d(2025, 2, 14)), ("old_pending", 2000, d(2025, 3, 31))):
        row = built.row("late_interest.csv", invoice_id=iid)
        assert (row["due_on"], row["due_basis"], row["accrual_to"]) == (
            due.isoformat(), "registry_plus_60", to.isoformat())
        assert row["interest"] == _cents(_interest(principal, due, to))
    assert "old_pending" in {r["invoice_id"] for r in built.csv("pending_recognition.csv")}


def test_a_quarantined_invoice_counts_with_the_hubs_amount_whatever_its_facturae_says(built):
    """§4.1: a Facturae total that disagrees with the hub's (here in sign) is a finding, not a
    credit note: the invoice counts with the hub's +1,500 €, flagged."""
    row = built.invoice("xml_negative")
    assert (row["is_credit_note"], row["exclusion_reason"], row["pmp_role"]) == (False, None, "pending")
    pmp = built.row("pmp.csv", entity_nif=XML)
    assert (pmp["pending_count"], pmp["pending_amount"], pmp["pmp"]) == ("1", "1500.00", "75.00")
    assert (pmp["findings_count"], pmp["findings_amount"]) == ("1", "1500.00")
    assert built.row("late_interest.csv", invoice_id="xml_negative")["due_on"] == "2025-02-14"


def test_interest_on_an_invoice_never_conformed_is_due_at_registry_plus_60(built):
    """§5.2: 30 days to approve, then 30 to pay. Unpaid at 31-03: due 11-03, 20 days late; paid
    01-03, before registry + 60: not late, no interest and no 40 €. (The morosity due date
    still counts from the registry, §1.4.)"""
    row = built.row("late_interest.csv", invoice_id="unconformed")
    assert (row["due_on"], row["due_basis"], row["days_late"]) == ("2025-03-11", "registry_plus_60", "20")
    assert row["interest"] == _cents(_interest(10000, d(2025, 3, 11), d(2025, 3, 31)))
    assert "unconformed_paid" not in {r["invoice_id"] for r in built.csv("late_interest.csv")}
    assert built.row("morosity.csv", entity_nif=UNCONFORMED)["paid_late_count"] == "1"


def test_an_entity_without_invoices_reports_zeros_in_the_pmp_and_the_morosity_report(built):
    """Every entity files both each quarter: the PMP n/a, the morosity report's blocks zero."""
    pmp = built.row("pmp.csv", entity_nif=EMPTY)
    assert (pmp["paid_count"], pmp["pending_count"], pmp["pmp"]) == ("0", "0", "")
    morosity = built.row("morosity.csv", entity_nif=EMPTY)
    assert (morosity["entity_name"], morosity["paid_late_count"], morosity["pending_late_amount"],
            morosity["pmp_days"]) == ("Ens sense factures", "0", "0.00", "")  # fmt: skip


def test_the_oracle_agrees_on_every_figure(built):
    snapshot = snapshot_path_for(built.out.parent / "warehouse.duckdb")
    figures = oracle.compute(oracle.read_warehouse(snapshot), d(2025, 1, 1), d(2025, 3, 31),
                             d(2025, 5, 2))  # fmt: skip
    problems = [line for compare in (oracle_compare.compare_pmp, oracle_compare.compare_morosity,
                                     oracle_compare.compare_art10, oracle_compare.compare_interest)
                for line in compare(built.db, figures)]  # fmt: skip
    assert problems == []
    assert oracle_compare.compare_headline(built.out / "report.json", figures) == []
