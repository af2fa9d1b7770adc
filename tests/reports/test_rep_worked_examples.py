"""The worked examples of compliance-rules.md §6, reproduced through real report builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rep_scenarios import E1, E2, E3, E4
from typer.testing import CliRunner

from rcflow.reports.cli import app

PMP_COLUMNS = ["entity_nif", "period", "paid_count", "paid_amount", "paid_ratio",
               "pending_count", "pending_amount", "pending_ratio", "pmp"]  # fmt: skip


def test_pmp_csv_has_the_agreed_columns(main_q1):
    """pmp.csv has exactly the agreed columns, an entity row each and the ALL row last."""
    rows = main_q1.csv("pmp.csv")
    assert list(rows[0]) == PMP_COLUMNS
    assert [r["entity_nif"] for r in rows] == [E1, E2, "ALL"]


def test_6_1_entity_pmp_new_method(main_q1):
    """§6.1: ratios 28.33 / 36.00 and PMP 31.82 for entity 1 (RD 1040/2017)."""
    row = main_q1.row("pmp.csv", entity_nif=E1)
    assert row == {
        "entity_nif": E1, "period": "2025-Q1",
        "paid_count": "3", "paid_amount": "6000.00", "paid_ratio": "28.33",
        "pending_count": "2", "pending_amount": "5000.00", "pending_ratio": "36.00",
        "pmp": "31.82",
    }  # fmt: skip
    assert main_q1.result.method == "rd1040_2017"
    assert "RD 1040/2017" in main_q1.result.method_label


def test_6_3_global_pmp(main_q1):
    """§6.3: entity 2 (PMP 10.00 on 9,000 €) with entity 1 gives a global PMP of 22.00."""
    assert main_q1.row("pmp.csv", entity_nif=E2)["pmp"] == "10.00"
    total = main_q1.row("pmp.csv", entity_nif="ALL")
    assert total["pmp"] == "22.00"
    assert (total["paid_amount"], total["pending_amount"]) == ("15000.00", "5000.00")
    assert main_q1.result.pmp_global == pytest.approx(22.0)


def test_6_4_morosity_classification(main_q1):
    """§6.4: 2 payments in time (4,000), 1 late (2,000), pending 1 in time / 1 late, PMPE 10,
    PMPPE 30."""
    row = main_q1.row("morosity.csv", entity_nif=E1)
    assert (row["paid_in_time_count"], row["paid_in_time_amount"]) == ("2", "4000.00")
    assert (row["paid_late_count"], row["paid_late_amount"]) == ("1", "2000.00")
    assert (row["pending_in_time_count"], row["pending_in_time_amount"]) == ("1", "4000.00")
    assert (row["pending_late_count"], row["pending_late_amount"]) == ("1", "1000.00")
    assert (row["pmpe_days"], row["pmppe_days"]) == ("10.00", "30.00")
    assert (row["pmp_days"], row["pmpp_days"]) == ("28.33", "36.00")
    assert (row["interest_paid_count"], row["interest_paid_amount"]) == ("0", "0.00")
    assert "no interest payments" in row["interest_paid_basis"]


def test_6_2_old_method_through_the_cli(old_method_warehouse: Path, tmp_path: Path):
    """§6.2: the same operations before 04/2018 use the original RD 635/2014 (+30 days):
    ratios -0.33 / 16.20, PMP 7.18, labelled as such (run through `rcflow report --json`)."""
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--period", "2017-Q1", "--out", str(out),
                                      "--warehouse", str(old_method_warehouse), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["method"] == "rd635_2014_original"
    assert "original wording" in summary["method_label"]
    assert summary["headline"]["pmp_global"] == pytest.approx(7.18, abs=0.005)
    row = next(r for r in (out / "pmp.csv").read_text().splitlines() if r.startswith(E1))
    assert row == f"{E1},2017-Q1,3,6000.00,-0.33,2,5000.00,16.20,7.18"
    assert "original wording" in (out / "report.html").read_text(encoding="utf-8")


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
    """While unpaid (Q1) the same invoice accrues to 31-03: 89 days at 11.15 %."""
    row = hand.q1.row("late_interest.csv", invoice_id="interest")
    assert (row["accrual_to"], row["days_late"], row["accrual_end_basis"]) == (
        "2025-03-31", "89", "pending_at_period_end")
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
