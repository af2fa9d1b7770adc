"""Late-payment interest by the law as the courts read it (issue #12, bugs 4 and 5;
compliance-rules.md §5.2, §5.3) and the user's rates file, through real dbt builds."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from rep_builder import Built, Inv, load

from rcflow import clock
from rcflow.reports import Readings, build_reports
from rcflow.reports.rates import RatesFileError, load_rates_file

E = "P0800010H"


@pytest.fixture(scope="module")
def interest_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = date
    return load(tmp_path_factory.mktemp("interest") / "warehouse.duckdb", [
        # Bug 4: registered 03-08, conformity only on 02-11, paid 01-12-2025.
        Inv("late_conformity", E, 10000, d(2025, 8, 3), {"ANNOTATED": d(2025, 8, 4),
            "ACCEPTED": d(2025, 11, 2), "RECOGNISED": d(2025, 11, 3), "PAID": d(2025, 12, 1)}),
        # Bug 5: due 01-06-2026, paid 31-08-2026: 2026 H2 has no rate in the project's table.
        Inv("across_h2", E, 1000, d(2026, 4, 20), {"ANNOTATED": d(2026, 4, 21),
            "ACCEPTED": d(2026, 5, 2), "RECOGNISED": d(2026, 5, 3), "PAID": d(2026, 8, 31)}),
    ], entities=[(E, "Ens de proves")])  # fmt: skip


def _build(warehouse: Path, period: str, out: Path, **kwargs) -> Built:
    with clock.pinned("2026-12-06T10:00:00Z"):
        result = build_reports(warehouse, period, out, reports_db=out / "reports.duckdb",
                               checks=False, **kwargs)  # fmt: skip
    return Built(result, out)


def test_late_conformity_does_not_push_the_due_date_back(interest_warehouse, tmp_path):
    """Bug 4: registry 03-08 + 60 = 02-10 comes before conformity 02-11 + 30 = 02-12, so
    interest runs from 03-10 to 01-12 (60 days at 10.15 %); morosity and the PMP still count
    from conformity (paid in 29 days: in time)."""
    built = _build(interest_warehouse, "2025-Q4", tmp_path / "q4")
    row = built.row("late_interest.csv", invoice_id="late_conformity")
    assert (row["due_on"], row["due_basis"], row["days_late"]) == (
        "2025-10-02", "registry_plus_60", "60")
    expected = Decimal(10000) * Decimal("0.1015") * 60 / 365
    assert row["interest"] == f"{expected.quantize(Decimal('0.01'))}"  # 166.85
    assert (row["recovery_costs"], row["total_claimable"]) == ("40.00", f"{expected + 40:.2f}")
    status = built.invoice("late_conformity")
    assert (status["pmp_days"], status["is_overdue"]) == (29, False)
    assert built.row("morosity.csv", entity_nif=E)["paid_in_time_count"] == "1"


def test_conformity_plus_30_stays_selectable(interest_warehouse, tmp_path):
    """The alternative reading, named on the report: due 02-12, paid 01-12, no interest."""
    built = _build(interest_warehouse, "2025-Q4", tmp_path / "q4",
                   readings=Readings(interest_due_date="conformity_plus_30"))  # fmt: skip
    assert built.csv("late_interest.csv") == []
    meta = json.loads((tmp_path / "q4" / "report.json").read_text(encoding="utf-8"))
    assert meta["readings"]["interest_due_date"] == "conformity_plus_30"
    assert "conformity_plus_30" in (tmp_path / "q4" / "report.html").read_text(encoding="utf-8")


def test_a_half_year_without_a_rate_keeps_the_recovery_costs(interest_warehouse, tmp_path):
    """Bug 5: June at 10.15 % (29 days), July-August unrated (62 days): interest on the rated
    days, 40 EUR recovery costs, a total that never vanishes, the unrated days counted."""
    built = _build(interest_warehouse, "2026-Q3", tmp_path / "q3")
    row = built.row("late_interest.csv", invoice_id="across_h2")
    rated = Decimal(1000) * Decimal("0.1015") * 29 / 365
    assert (row["due_on"], row["days_late"], row["is_rate_missing"]) == ("2026-06-01", "91", "true")
    assert (row["interest"], row["unrated_days"], row["unrated_principal"]) == (
        f"{rated:.2f}", "62", "1000.00")
    assert row["total_claimable"] == f"{rated + 40:.2f}"
    assert "62d: rate not yet published" in row["rate_detail"]
    h = built.result.headline
    assert (h["late_interest_unrated_count"], h["late_interest_unrated_days"]) == (1, 62)
    assert h["recovery_costs_amount"] == 40
    page = (tmp_path / "q3" / "report.html").read_text(encoding="utf-8")
    assert "rate not yet published" in page


def test_a_rate_added_in_the_rates_file_is_used_and_listed(interest_warehouse, tmp_path):
    """The user adds 2026 H2 as data: all 91 days rated; the report lists the rates it used
    with their source, the user's row named by file and line."""
    rates = tmp_path / "legal_interest_rates.csv"
    rates.write_text("# added by Intervenció\nhalf_year,legal_rate,source\n"
                     "2026-H2,10.15,BOE-A-2026-99999\n", encoding="utf-8")  # fmt: skip
    built = _build(interest_warehouse, "2026-Q3", tmp_path / "q3", rates_file=rates)
    row = built.row("late_interest.csv", invoice_id="across_h2")
    rated = Decimal(1000) * Decimal("0.1015") * 29 / 365 + Decimal(1000) * Decimal("0.1015") * 62 / 365
    assert (row["is_rate_missing"], row["unrated_days"], row["interest"]) == (
        "false", "0", f"{rated:.2f}")
    used = {r["half_year_start"]: r for r in built.csv("interest_rates.csv") if r["is_used"] == "true"}
    assert set(used) == {"2026-01-01", "2026-07-01"}
    assert (used["2026-07-01"]["source"], used["2026-07-01"]["status"]) == ("BOE-A-2026-99999", "user")
    assert used["2026-07-01"]["source_file"] == "legal_interest_rates.csv line 3"
    assert used["2026-01-01"]["source"] == "BOE-A-2025-27201"
    meta = json.loads((tmp_path / "q3" / "report.json").read_text(encoding="utf-8"))
    assert [r["source"] for r in meta["rates_used"]] == ["BOE-A-2025-27201", "BOE-A-2026-99999"]


HEADER = "half_year,legal_rate,source\n"


@pytest.mark.parametrize(("text", "error"), [
    ("half_year,rate,source\n", "x.csv:1: the header must be half_year,legal_rate,source"),
    (HEADER + "2026-H3,10,BOE\n", "x.csv:2: half_year '2026-H3' is not YYYY-H1 or YYYY-H2"),
    (HEADER + "2026-H2,diez,BOE\n", "x.csv:2: legal_rate 'diez' is not a number"),
    (HEADER + "2026-H2,10.15,\n", "x.csv:2: source is empty"),
    (HEADER + "2026-H2,10.15,A\n\n2026-H2,10.15,B\n", "x.csv:4: 2026-H2 is already on line 2"),
    (HEADER + "2026-H2,150,BOE\n", "x.csv:2: legal_rate '150' must be a percent"),
])  # fmt: skip
def test_a_bad_rates_file_line_is_named_in_one_line(tmp_path, text, error):
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RatesFileError) as caught:
        load_rates_file(path)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / error.split(":")[0]))
    assert error.split(":", 1)[1] in message and "\n" not in message


def test_the_shipped_rates_file_is_valid_and_empty():
    """data/legal_interest_rates.csv ships with its header and comments only: no guessed rate."""
    assert load_rates_file(Path(__file__).parents[2] / "data" / "legal_interest_rates.csv") == []
