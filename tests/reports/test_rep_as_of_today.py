"""A period still running is measured as of today, the Madrid date of the run (issue #12, bug
2; compliance-rules.md §1.5), at the hours a scheduler runs: 23:30 UTC on 31 December, both
DST nights, 00:30 Madrid on the 1st of a month, 29 February. The clock is pinned (rcflow.clock)
and every report is a real dbt build."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from rep_builder import Built, Inv, load

from rcflow import clock
from rcflow.reports import PeriodError, build_reports, parse_period

E = "P0800009J"


@dataclass(frozen=True)
class Night:
    """A pinned instant, the Madrid date it falls on, and its zone."""

    instant: str
    today: date
    zone: str


NIGHTS = {
    "new_year": Night("2026-12-31T23:30:00Z", date(2027, 1, 1), "CET"),
    "spring_dst": Night("2026-03-28T23:30:00Z", date(2026, 3, 29), "CET"),
    "autumn_dst": Night("2026-10-24T22:30:00Z", date(2026, 10, 25), "CEST"),
    "first_of_july": Night("2026-06-30T22:30:00Z", date(2026, 7, 1), "CEST"),
    "leap_day": Night("2028-02-28T23:30:00Z", date(2028, 2, 29), "CET"),
}


def _invoices(name: str, today: date) -> list[Inv]:
    """Around ``today``: pending since today-40 (10 days overdue), pending since today-1 (in
    time), paid tomorrow (a fact the run cannot know), registered tomorrow (not yet there)."""
    d = today
    return [
        Inv(f"{name}_old", E, 1000, d - timedelta(days=40), {"ANNOTATED": d - timedelta(days=39)}),
        Inv(f"{name}_new", E, 500, d - timedelta(days=1)),
        Inv(f"{name}_paid_tomorrow", E, 300, d - timedelta(days=5),
            {"PAID": d + timedelta(days=1)}),
        Inv(f"{name}_registered_tomorrow", E, 700, d + timedelta(days=1)),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def calendar_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("as_of_today")
    invoices = [inv for name, night in NIGHTS.items() for inv in _invoices(name, night.today)]
    return load(root / "warehouse.duckdb", invoices, entities=[(E, "Ens de proves")])


def _build(warehouse: Path, night: Night, period: str, out: Path) -> Built:
    with clock.pinned(night.instant):
        label = parse_period(period).label
        result = build_reports(warehouse, label, out, reports_db=out / "reports.duckdb",
                               checks=False)  # fmt: skip
    return Built(result, out)


@pytest.mark.parametrize("name", list(NIGHTS))
def test_running_month_is_measured_as_of_the_madrid_date(name, calendar_warehouse, tmp_path):
    """The current month (Madrid) is provisional as of today: ages and overdue status at
    today, a payment or an invoice dated tomorrow unknown; 'generated' in Madrid time with
    its zone."""
    night = NIGHTS[name]
    built = _build(calendar_warehouse, night, "current-month", tmp_path / "out")
    assert built.result.period.start == night.today.replace(day=1)
    assert built.result.as_of == night.today
    assert built.result.is_provisional
    old = built.invoice(f"{name}_old")
    assert (old["as_of_on"], old["days_open"], old["days_overdue"], old["is_overdue"]) == (
        night.today, 40, 10, True)
    # Registered yesterday; on the 1st of a month that was last month: not in this one at all.
    if night.today.day > 1:
        assert built.invoice(f"{name}_new")["is_overdue"] is False
    paid_tomorrow = built.invoice(f"{name}_paid_tomorrow")
    assert (paid_tomorrow["status"], paid_tomorrow["payment_on"]) == ("REGISTERED", None)
    assert not built.query(
        f"select 1 from main.invoice_status where invoice_id = '{name}_registered_tomorrow'")
    meta = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert meta["status"] == f"provisional, as of {night.today:%d/%m/%Y}"
    assert meta["generated_local"].startswith(f"{night.today:%d/%m/%Y} 00:3")
    assert meta["generated_local"].endswith(f" {night.zone}")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert f"provisional, as of {night.today:%d/%m/%Y}" in page
    assert f"generated {meta['generated_local']}" in page


def test_the_month_just_ended_is_closed_at_madrid_midnight(calendar_warehouse, tmp_path):
    """00:30 Madrid on 1 July is still 30 June in UTC: June is over, so it is measured at its
    last day, not as a running month (the UTC date would have made it provisional)."""
    built = _build(calendar_warehouse, NIGHTS["first_of_july"], "last-month", tmp_path / "out")
    assert (built.result.period.label, built.result.as_of) == ("2026-06", date(2026, 6, 30))
    assert not built.result.is_provisional
    assert built.result.status_line == "closed, as of 30/06/2026"
    old = built.invoice("first_of_july_old")
    assert (old["days_open"], old["days_overdue"]) == (39, 9)  # aged to 30-06, not 01-07


def test_leap_day_art_10_and_interest_are_judged_at_today(tmp_path):
    """2028-Q1 run on 29 February: annotated 28-11-2027 reaches three months on 28-02 (listed);
    29-11 reaches them on 29-02 itself (not 'more than'); interest of a late invoice accrues
    to 29-02, in a half-year with no published rate: days counted, 40 EUR still due."""
    d = date
    warehouse = load(tmp_path / "warehouse.duckdb", [
        Inv("listed", E, 100, d(2027, 11, 27), {"ANNOTATED": d(2027, 11, 28)}),
        Inv("not_yet", E, 100, d(2027, 11, 28), {"ANNOTATED": d(2027, 11, 29)}),
        Inv("late", E, 1000, d(2028, 1, 2), {"ANNOTATED": d(2028, 1, 2), "ACCEPTED": d(2028, 1, 2)}),
    ], entities=[(E, "Ens de proves")])  # fmt: skip
    built = _build(warehouse, NIGHTS["leap_day"], "current-quarter", tmp_path / "out")
    assert (built.result.period.label, built.result.status_line) == (
        "2028-Q1", "provisional, as of 29/02/2028")
    assert [r["invoice_id"] for r in built.csv("pending_recognition.csv")] == ["listed"]
    late = built.row("late_interest.csv", invoice_id="late")
    # due 01-02 (conformity + 30), accrual 02-02 .. 29-02 = 28 days, 2028 H1 has no rate row
    assert (late["due_on"], late["accrual_to"], late["days_late"]) == (
        "2028-02-01", "2028-02-29", "28")
    assert (late["interest"], late["unrated_days"], late["unrated_principal"]) == (
        "0.00", "28", "1000.00")
    assert (late["recovery_costs"], late["total_claimable"]) == ("40.00", "40.00")
    assert "rate not yet published" in late["rate_detail"]


def test_a_period_not_started_is_refused_in_one_line(calendar_warehouse, tmp_path):
    with clock.pinned("2026-12-31T23:30:00Z"), pytest.raises(PeriodError) as caught:
        build_reports(calendar_warehouse, "2027-02", tmp_path / "out")
    assert str(caught.value) == "period 2027-02 has not started: today is 01/01/2027 (Europe/Madrid)"
