"""The worked examples of compliance-rules.md §6, reproduced through real report builds."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from rep_scenarios import E1, E2, E3, E4
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.reports.export import HEADERS, OUTPUTS

PMP_COLUMNS = ["entity_nif", "administration_id", "administration_name", "period", "as_of_on",
               "is_provisional", "paid_count", "paid_amount", "paid_ratio", "pending_count",
               "pending_amount", "pending_ratio", "pmp", "is_within_30_days", "findings_count",
               "findings_amount", "scope_excluded_count", "scope_excluded_amount", "pmp_method",
               "method_label"]  # fmt: skip
PMP_FIGURES = ("paid_count", "paid_amount", "paid_ratio", "pending_count", "pending_amount",
               "pending_ratio", "pmp")  # fmt: skip

# main_q1 holds §6.1 (E1: A–E) and F (E2) plus two invoices with open quality findings, which
# count in every legal figure (compliance-rules.md §4.1): Q (E1, 5,000 €, registered 10-01,
# never conformed: pending 80 days at 31-03) and Q2 (E2, 800 €, paid in 10 days).


def figures(row: dict[str, str]) -> tuple[str, ...]:
    return tuple(row[name] for name in PMP_FIGURES)


def test_pmp_csv_has_the_agreed_columns(main_q1):
    """pmp.csv has exactly the agreed columns, an entity row each and the ALL row last."""
    rows = main_q1.csv("pmp.csv")
    assert list(rows[0]) == PMP_COLUMNS
    assert [r["entity_nif"] for r in rows] == [E1, E2, "ALL"]
    assert {r["administration_id"] for r in rows} == {"ALL"}
    assert {(r["as_of_on"], r["is_provisional"]) for r in rows} == {("2025-03-31", "false")}


def test_6_1_entity_pmp_new_method(main_q1):
    """§6.1 (ratios 28.33 / 36.00, PMP 31.82) plus Q, counted though quarantined: pending
    (30·4000 + 60·1000 + 80·5000) / 10000 = 58.00, PMP 750000 / 16000 = 46.88, flagged."""
    row = main_q1.row("pmp.csv", entity_nif=E1)
    assert figures(row) == ("3", "6000.00", "28.33", "3", "10000.00", "58.00", "46.88")
    assert (row["findings_count"], row["findings_amount"]) == ("1", "5000.00")
    assert row["is_within_30_days"] == "false"
    assert main_q1.result.method == "rd1040_2017"
    assert "RD 1040/2017" in main_q1.result.method_label


def test_6_1_worked_example_under_the_opt_in_reading(main_q1_without_findings):
    """quarantined_invoices=exclude gives back §6.1's own figures, and says so on the page."""
    built = main_q1_without_findings
    row = built.row("pmp.csv", entity_nif=E1)
    assert figures(row) == ("3", "6000.00", "28.33", "2", "5000.00", "36.00", "31.82")
    assert row["findings_count"] == "0"
    assert built.invoice("Q")["exclusion_reason"] == "quarantined"
    page = (built.out / "report.html").read_text(encoding="utf-8")
    assert "not the legal figures" in page and "EXCLUDED" in page


def test_6_3_global_pmp(main_q1):
    """§6.3's rule over the two entities: E2 (F 9,000 € and Q2 800 €, both 10 days) with E1
    gives (170000 + 580000 + 98000) / 25800 = 32.87."""
    assert main_q1.row("pmp.csv", entity_nif=E2)["pmp"] == "10.00"
    total = main_q1.row("pmp.csv", entity_nif="ALL")
    assert total["pmp"] == "32.87"
    assert (total["paid_amount"], total["pending_amount"]) == ("15800.00", "10000.00")
    assert (total["findings_count"], total["findings_amount"]) == ("2", "5800.00")
    assert main_q1.result.pmp_global == Decimal("32.87")  # 32.868… published to 2 decimals


def test_6_4_morosity_classification(main_q1):
    """§6.4: 2 payments in time (4,000), 1 late (2,000), PMPE 10; pending: D in time, E and
    Q late (Q due 09-02: 50 days past at 31-03), PMPPE (30·1000 + 50·5000) / 6000 = 46.67."""
    row = main_q1.row("morosity.csv", entity_nif=E1)
    assert (row["paid_in_time_count"], row["paid_in_time_amount"]) == ("2", "4000.00")
    assert (row["paid_late_count"], row["paid_late_amount"]) == ("1", "2000.00")
    assert (row["pending_in_time_count"], row["pending_in_time_amount"]) == ("1", "4000.00")
    assert (row["pending_late_count"], row["pending_late_amount"]) == ("2", "6000.00")
    assert (row["pmpe_days"], row["pmppe_days"]) == ("10.00", "46.67")
    assert (row["pmp_days"], row["pmpp_days"]) == ("28.33", "58.00")
    assert (row["findings_count"], row["findings_amount"]) == ("1", "5000.00")
    assert (row["interest_paid_count"], row["interest_paid_amount"]) == ("0", "0.00")
    assert "no interest payments" in row["interest_paid_basis"]


def test_6_2_old_method_through_the_cli(old_method_warehouse: Path, tmp_path: Path):
    """§6.2: the same operations before 04/2018 use the original RD 635/2014 (+30 days):
    ratios -0.33 / 16.20, PMP 7.18, labelled as such (run through `rcflow report --json`)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["report", "--period", "2017-Q1", "--out", str(out), "--lang", "en",
                                      "--warehouse", str(old_method_warehouse), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["method"] == "rd635_2014_original"
    assert "original wording" in summary["method_label"]
    assert summary["headline"]["pmp_global"] == pytest.approx(7.18, abs=0.005)
    column = {HEADERS[name]: name for name in OUTPUTS[0].columns}  # English headers to column names
    with (out / "pmp.csv").open(encoding="utf-8") as handle:
        rows = {r["entity_nif"]: r for r in ({column[k]: v for k, v in row.items()}
                                             for row in csv.DictReader(handle))}  # fmt: skip
    assert figures(rows[E1]) == ("3", "6000.00", "-0.33", "2", "5000.00", "16.20", "7.18")
    # The 30-day maximum only means something for the current method: no verdict.
    assert rows[E1]["is_within_30_days"] == rows["ALL"]["is_within_30_days"] == ""
    assert summary["headline"]["is_within_30_days"] is None
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "original wording" in page
    assert "no 30-day verdict" in page and "data-verdict" not in page


def test_6_5_late_interest_split_by_half_year(hand):
    """§6.5: 10,000 € due 01-01-2025, paid 31-07-2025: 180 days at 11.15 % + 31 days at
    10.15 % = 636.07 €, plus 40 € recovery costs."""
    row = hand.q3.row("late_interest.csv", invoice_id="interest")
    assert row["entity_nif"] == E4
    assert (row["due_on"], row["accrual_to"], row["days_late"]) == (
        "2025-01-01", "2025-07-31", "211")
    assert (row["interest"], row["recovery_costs"], row["total_claimable"]) == (
        "636.07", "40.00", "676.07")
    assert row["is_rate_missing"] == "false"
    assert "180d @ 11.15%" in row["rate_detail"] and "31d @ 10.15%" in row["rate_detail"]
    assert row["accrual_end_basis"] == "paid"


def test_6_5_pending_interest_accrues_to_the_period_end(hand):
    """While unpaid (Q1, closed) the same invoice accrues to 31-03: 89 days at 11.15 %."""
    row = hand.q1.row("late_interest.csv", invoice_id="interest")
    assert (row["accrual_to"], row["days_late"], row["accrual_end_basis"]) == (
        "2025-03-31", "89", "pending_at_as_of_day")
    assert row["interest"] == "271.88"  # 10000 × 0.1115 × 89 / 365


def test_6_6_art_10_list(hand):
    """§6.6: only the invoice annotated 15-12-2024 and unrecognised is listed for Q1-2025."""
    rows = hand.q1.csv("pending_recognition.csv")
    assert [r["invoice_id"] for r in rows if r["entity_nif"] == E3] == ["art10_listed"]
    listed = rows[0]
    assert (listed["annotated_on"], listed["three_months_on"]) == ("2024-12-15", "2025-03-15")
    assert listed["days_since_annotation"] == "106"
    assert listed["report_due_on"] == "2025-04-15"
    assert listed["rcf_number"] == "RCF-art10_listed"
