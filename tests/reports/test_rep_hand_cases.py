"""Edge cases of the date logic, exclusions, obligations and re-runs, through real builds."""

from __future__ import annotations

import csv
import json
from datetime import date

import duckdb
import pytest
from rep_scenarios import E1, E2, E3, E4

from rcflow.reports import build_reports
from rcflow.reports.dbt_runner import ReportBuildError, run_dbt_build
from rcflow.reports.periods import NEW_METHOD_FROM
from rcflow.warehouse import Warehouse, snapshot_path_for

REPRODUCIBLE = ["pmp.csv", "morosity.csv", "pending_recognition.csv", "obligations.csv",
                "late_interest.csv", "state_lags.csv", "quarantine.csv", "pmp_trend.csv"]  # fmt: skip


def test_paid_on_the_registry_day_counts_zero_days(hand):
    """Registered and paid the same Madrid day: a paid operation of 0 days."""
    row = hand.q1.invoice("same_day")
    assert (row["pmp_role"], row["pmp_days"], row["start_basis"]) == (
        "paid", 0, "registry_no_acceptance")


def test_accepted_before_registered_starts_at_registry(hand):
    """Conformity before the invoice was registered (§4 case 4): the registry date starts the
    count, and it is not an inferred start."""
    row = hand.q1.invoice("accepted_first")
    assert row["start_on"] == date(2025, 1, 12)
    assert (row["start_basis"], row["is_start_inferred"]) == ("registry_after_acceptance", False)
    assert (row["pmp_role"], row["pmp_days"]) == ("paid", 20)


def test_missing_accepted_falls_back_to_registry_and_flags_it(hand):
    """Paid with no ACCEPTED in the history (§4 case 5): registry start, flagged inferred."""
    row = hand.q1.invoice("no_acceptance")
    assert (row["start_on"], row["is_start_inferred"], row["pmp_days"]) == (
        date(2025, 1, 20), True, 36)


def test_pending_across_the_period_end(hand):
    """Conformed 25-03 and paid 10-04: pending for 6 days in Q1, paid in Q2, so neither paid
    nor pending in Q3."""
    q1 = hand.q1.invoice("across_end")
    assert (q1["pmp_role"], q1["pmp_days"], q1["status"]) == ("pending", 6, "ACCEPTED")
    q3 = hand.q3.invoice("across_end")
    assert (q3["pmp_role"], q3["status"], q3["payment_on"]) == (
        None, "PAID", date(2025, 4, 10))


def test_day_boundaries_use_madrid_dates(hand):
    """Registered 31-01 23:30 UTC is 01-02 in Madrid; PAID at 31-03 23:30 UTC (no
    dataPagament) is 01-04 in Madrid, so the invoice is still pending at the end of Q1."""
    row = hand.q1.invoice("midnight")
    assert row["registered_on"] == date(2025, 2, 1)
    assert (row["pmp_role"], row["pmp_days"], row["status"]) == ("pending", 58, "REGISTERED")
    later = hand.q3.invoice("midnight")
    assert later["payment_on"] == date(2025, 4, 1)
    assert later["is_payment_date_inferred"] is True


def test_entity_pmp_from_the_hand_cases(hand):
    """Entity ratios follow from the per-invoice counts above (rejected and credit note out)."""
    row = hand.q1.row("pmp.csv", entity_nif=E3)
    # paid: same_day 500 × 0, accepted_first 800 × 20, no_acceptance 900 × 36
    assert (row["paid_count"], row["paid_amount"], row["paid_ratio"]) == ("3", "2200.00", "22.00")
    # pending: across_end 600 × 6, midnight 400 × 58, unannotated 100 × 58, art10_listed
    # 1500 × 107, art10_recent 1600 × 81, art10_recognised 1700 × 150
    weighted = 600 * 6 + 400 * 58 + 100 * 58 + 1500 * 107 + 1600 * 81 + 1700 * 150
    assert (row["pending_count"], row["pending_amount"]) == ("6", "5900.00")
    assert row["pending_ratio"] == f"{weighted / 5900:.2f}"
    assert row["pmp"] == f"{(48400 + weighted) / 8100:.2f}"


def test_rejected_and_credit_notes_are_left_out_and_flagged(hand):
    """REJECTED is not a payable operation; a negative corrective invoice is excluded and
    flagged (credit_notes=exclude_and_flag)."""
    rejected = hand.q1.invoice("rejected")
    assert (rejected["status"], rejected["exclusion_reason"], rejected["pmp_role"]) == (
        "REJECTED", "rejected", None)
    credit = hand.q1.invoice("credit")
    assert (credit["is_credit_note"], credit["is_corrective"]) == (True, True)
    assert (credit["exclusion_reason"], credit["pmp_role"]) == ("credit_note", None)
    assert hand.q1.result.headline["credit_note_count"] == 1


def test_obligations_to_the_hub(hand):
    """Owed (accounting has it by the period end), missing in sequence, overdue; an accounting
    event dated after the period end is not owed yet."""
    found = {(r["invoice_id"], r["state"]): r for r in hand.q1.csv("obligations.csv")}
    assert found["owed", "RECOGNISED"]["obligation"] == "owed_to_hub"
    assert found["owed", "RECOGNISED"]["accounting_event_on"] == "2025-03-10"
    assert found["no_acceptance", "ANNOTATED"]["obligation"] == "missing_in_sequence"
    assert found["no_acceptance", "RECOGNISED"]["obligation"] == "missing_in_sequence"
    assert found["unannotated", "ANNOTATED"]["obligation"] == "overdue"
    assert found["unannotated", "ANNOTATED"]["days_outstanding"] == "58"
    assert found["interest", "PAID"]["obligation"] == "overdue"
    assert ("across_end", "PAID") not in found
    assert ("art10_recent", "RECOGNISED") not in found
    assert hand.q1.result.headline["updates_owed_to_hub"] == 1


def test_state_lags(hand):
    """REGISTERED→ANNOTATED lags of the transitions completed in Q1."""
    lags = {r["transition"]: r for r in hand.q1.csv("state_lags.csv") if r["entity_nif"] == "ALL"}
    # annotated in Q1: across_end 1, credit 1, accepted_first 1, art10_recent 1, owed 1 day
    assert lags["REGISTERED>ANNOTATED"]["transition_count"] == "5"
    assert lags["REGISTERED>ANNOTATED"]["mean_days"] == "1.00"
    # recognised in Q1: accepted_first 7, owed 27 (its accounting date), art10_recognised 138
    assert lags["ANNOTATED>RECOGNISED"]["transition_count"] == "3"
    assert lags["ANNOTATED>RECOGNISED"]["median_days"] == "27.00"
    assert lags["RECOGNISED>PAID"]["transition_count"] == "1"  # accepted_first: 20-01 → 01-02
    assert lags["RECOGNISED>PAID"]["median_days"] == "12.00"


def test_rerunning_a_past_period_gives_identical_outputs(hand):
    """After later history (payments, a recognition, a new invoice, a later accounting event)
    the Q1 outputs are byte-for-byte the same."""
    assert hand.q3.invoice("art10_listed")["recognised_on"] == date(2025, 4, 2)
    for name in REPRODUCIBLE:
        assert (hand.q1_again.out / name).read_bytes() == (hand.q1.out / name).read_bytes(), name
    assert hand.q1_again.result.headline == hand.q1.result.headline


def test_quarantined_invoices_count_in_the_legal_figures_flagged(main_q1):
    """Issue #12, bug 1: a quality finding is not a legal exclusion (§4.1). Quarantined
    invoices count in PMP, morosity, art. 10 and interest, flagged on each figure and listed;
    the quarantine still holds back their pushes."""
    assert main_q1.result.quarantined_count == 2
    assert main_q1.row("pmp.csv", entity_nif=E1)["pending_count"] == "3"  # Q (5,000) counts
    assert main_q1.row("pmp.csv", entity_nif=E2)["paid_count"] == "2"  # Q2 (800) counts
    reasons = {(r["entity_nif"], r["stage"], r["reason"]): r["invoice_count"]
               for r in main_q1.csv("quarantine.csv")}  # fmt: skip
    assert reasons == {
        (E1, "facturae", "signature_invalid"): "1",
        (E1, "quality", "amount_mismatch"): "1",
        (E2, "quality", "amount_mismatch"): "1",
    }
    morosity = {r["entity_nif"]: r["quarantined_count"] for r in main_q1.csv("morosity.csv")}
    assert morosity == {E1: "1", E2: "1", "ALL": "2"}
    # The PMP counts them the same way (in the registry by the as-of day), though it dates
    # only the invoices its figures can use.
    pmp_counts = {r["entity_nif"]: str(r["quarantined_count"])
                  for r in main_q1.query("select entity_nif, quarantined_count from main.pmp")}
    assert {nif: pmp_counts[nif] for nif in morosity} == morosity
    assert main_q1.invoice("Q")["exclusion_reason"] is None
    assert main_q1.invoice("Q")["pmp_role"] == "pending"
    # Q was annotated 11-01: not three months by 31-03, so not on the art. 10 list; never
    # conformed, its interest is due at registry + 60 (11-03, §5.2) and accrues, flagged.
    interest = main_q1.row("late_interest.csv", invoice_id="Q")
    assert (interest["is_quarantined"], interest["due_on"], interest["days_late"]) == (
        "true", "2025-03-11", "20")
    assert interest["due_basis"] == "registry_plus_60"
    # Its RECOGNISED is owed to the hub (the per-invoice trace says so), but the push holds it
    # back while quarantined: no obligation row, not in the headline count.
    assert main_q1.invoice("Q")["owed_to_hub_count"] == 1
    assert main_q1.result.headline["updates_owed_to_hub"] == 1  # D's RECOGNISED only
    assert "Q" not in {r["invoice_id"] for r in main_q1.csv("obligations.csv")}
    meta = json.loads((main_q1.out / "report.json").read_text(encoding="utf-8"))
    assert {(q["stage"], q["reason"]): q["n"] for q in meta["quarantine"]} == {
        ("quality", "amount_mismatch"): 2, ("facturae", "signature_invalid"): 1}
    assert meta["method_label"] == main_q1.result.method_label
    findings = {f["figure"]: (f["n"], f["amount"]) for f in meta["findings_by_figure"]}
    assert findings["PMP"] == (2, 5800.0) and findings["Morosity"] == (2, 5800.0)
    assert findings["Late-payment interest"] == (1, 5000.0)
    assert {f["invoice_id"] for f in meta["findings_invoices"]} == {"Q", "Q2"}
    page = (main_q1.out / "report.html").read_text(encoding="utf-8")
    assert "2 invoices, €5,800.00 with open findings" in page  # the global row (an English page)
    assert "1 invoice, €5,000.00 with open findings" in page  # E1


def test_later_payment_does_not_leak_into_the_interest_of_q1(hand):
    """Interest for an invoice unpaid at the end of Q1 accrues only to 31-03, whatever came
    later; every late invoice carries the 40 € recovery costs."""
    rows = {r["invoice_id"]: r for r in hand.q1_again.csv("late_interest.csv")}
    assert rows["interest"]["accrual_to"] == "2025-03-31"
    assert {r["recovery_costs"] for r in rows.values()} == {"40.00"}
    assert set(rows) >= {"interest", "art10_listed", "art10_recognised"}
    assert E4 in {r["entity_nif"] for r in rows.values()}


def _fail(snapshot, tmp_path, **override) -> str:
    variables = {"period_start": "2025-01-01", "period_end": "2025-03-31",
                 "period_label": "2025-Q1", "period_kind": "quarter", "today": "2026-12-06",
                 "pmp_method_from": NEW_METHOD_FROM.isoformat(), **override}  # fmt: skip
    with pytest.raises(ReportBuildError) as caught:
        run_dbt_build(snapshot=snapshot, reports_db=tmp_path / "reports.duckdb",
                      variables=variables, work_dir=tmp_path)  # fmt: skip
    message = str(caught.value)
    assert "Traceback" not in message and "\n" not in message
    return message


def test_an_unknown_reading_fails_the_build_in_one_line(main_q1, tmp_path):
    """A reading dbt does not implement stops the build at compile time, named."""
    snapshot = snapshot_path_for(main_q1.out.parent / "warehouse.duckdb")
    message = _fail(snapshot, tmp_path, credit_notes="net_against_original")
    assert "credit_notes=net_against_original" in message


def test_a_failing_model_is_named_with_its_cause(tmp_path):
    """A snapshot without the rcflow schema: the failing nodes and the cause, one line (the
    staging models are inlined into their readers, so the first named may be a test on one)."""
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    message = _fail(tmp_path / "empty.duckdb", tmp_path)
    assert message.startswith(("dbt build failed: model.rcflow_reports.",
                               "dbt build failed: test.rcflow_reports."))  # fmt: skip
    assert "does not exist" in message and 'name "raw.' in message  # the missing table, named


def test_an_empty_warehouse_still_reports(tmp_path):
    """Before the first sync every output exists: a global row with PMP n/a, empty lists."""
    with Warehouse(tmp_path / "warehouse.duckdb"):
        pass
    result = build_reports(tmp_path / "warehouse.duckdb", "2025-10", tmp_path / "out")
    assert result.pmp_global is None and result.quarantined_count == 0
    pmp = list(csv.DictReader((tmp_path / "out" / "pmp.csv").open(encoding="utf-8")))
    assert [(r["entity_nif"], r["period"], r["paid_count"], r["pending_count"], r["pmp"])
            for r in pmp] == [("ALL", "2025-10", "0", "0", "")]  # fmt: skip
    assert (tmp_path / "out" / "pending_recognition.csv").read_text().count("\n") == 1
    assert "n/a" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
