"""The marts against an independent computation of the law (issue 12, "Proof").

Each scenario is a seeded random warehouse (``rep_generate``) built once with the real dbt
project, clock pinned; every figure of the marts is compared with ``oracle.py``, which reads the
same warehouse's views and applies ``compliance-rules.md`` in plain Python: to the cent for money
and interest, to 0.01 for days. The oracle itself is first checked against the worked examples of
§6, so a disagreement points at the marts, not at the oracle.

A case marked xfail(strict) is a known disagreement (its reason says which); it turns into a
failure (XPASS) when the reports are fixed. ``ORACLE_SEEDS=20`` adds twenty random scenarios for a
deeper run.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import oracle
import oracle_compare as cmp
import pytest
from oracle import ALL, Figures, Invoice, Reading
from rep_generate import ENTITIES, Features, generate

from rcflow import clock
from rcflow.reports import Readings, build_reports, parse_period

FIGURES = {
    "pmp": lambda run: cmp.compare_pmp(run.db, run.figures),
    "operations": lambda run: cmp.compare_operations(run.db, run.figures),
    "morosity": lambda run: cmp.compare_morosity(run.db, run.figures),
    "art10": lambda run: cmp.compare_art10(run.db, run.figures),
    "interest": lambda run: cmp.compare_interest(run.db, run.figures),
    "trend": lambda run: cmp.compare_trend(run.db, run.trend),
    "flags": lambda run: cmp.compare_flags(run.db, run.figures),
    "headline": lambda run: cmp.compare_headline(run.db.parent / "report.json", run.figures),
}

@dataclass(frozen=True)
class Scenario:
    """A generated warehouse, the period reported, the instant the report runs and its reading."""

    name: str
    seed: int
    period: str
    now: str  # the pinned clock (UTC instant)
    features: Features
    known_failing: dict[str, str] = field(default_factory=dict)  # figure -> reason (a known bug)
    readings: dict[str, str] = field(default_factory=dict)  # Readings(...) of the build
    reading: Reading = Reading()  # the oracle's same reading
    administrations: dict[str, tuple[str, ...]] | None = None  # parent NIF -> dependents
    rates: dict[str, str] = field(default_factory=dict)  # rates file: half-year -> rate %

    @property
    def today(self) -> date:
        return clock.madrid_date(clock.parse_instant(self.now))


ADMINISTRATION = {ENTITIES[0][0]: (ENTITIES[1][0],)}  # the third entity is reported alone
SCENARIOS = [
    Scenario("closed_quarter", 11, "2025-Q1", "2025-06-15T10:00:00Z",
             Features(quarantine=False, scope_exclusions=False)),
    Scenario("leap_quarter_with_findings", 12, "2024-Q1", "2024-05-15T10:00:00Z",
             Features(unknown_entity=True)),
    # 23:30 UTC on 30 November is already 1 December in Madrid: the quarter runs to that day;
    # 2026 H2 has no published rate.
    Scenario("running_quarter_at_madrid_midnight", 13, "2026-Q4", "2026-11-30T23:30:00Z",
             Features(future_facts=True)),
    Scenario("old_method_quarter", 14, "2018-Q1", "2018-07-01T10:00:00Z",
             Features(quarantine=False, scope_exclusions=False)),
    # The user adds the 2027 rates (a rates file); 2026 H2 and 2028 H1 stay unpublished.
    Scenario("running_quarter_on_leap_day", 15, "2028-Q1", "2028-02-29T12:00:00Z",
             Features(quarantine=False, scope_exclusions=False), rates={"2027-H1": "9.50", "2027-H2": "9.75"},
             reading=Reading(added_rates={"2027-H1": Decimal("9.50"), "2027-H2": Decimal("9.75")})),
    Scenario("declared_administration_and_opt_in_readings", 16, "2025-Q4", "2026-01-20T10:00:00Z",
             Features(unknown_entity=True),
             readings={"quarantined_invoices": "exclude", "interest_due_date": "registry_plus_30",
                       "public_body_rule": "declared_only"},
             reading=Reading(quarantine="exclude", interest_due="registry_30",
                             public_body_prefix=False, administrations={
                                 p: (p, *deps) for p, deps in ADMINISTRATION.items()}),
             administrations=ADMINISTRATION),
]  # fmt: skip


@dataclass
class Run:
    db: Path
    figures: Figures
    invoices: list[Invoice]
    trend: dict[str, Figures]  # the oracle for each period of the trend, on its own
    warehouse: Path
    options: dict  # build_reports' reading and reference files for the scenario


def _administrations_file(path: Path, declared: dict[str, tuple[str, ...]]) -> Path:
    lines = ["administrations:"]
    for parent, dependents in declared.items():
        lines += [f"  - name: Administració {parent}", f"    parent: {parent}",
                  f"    dependents: [{', '.join(dependents)}]"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """One generated warehouse and one real report build per scenario, made on first use."""
    done: dict[str, Run] = {}

    def get(scenario: Scenario) -> Run:
        if scenario.name not in done:
            root = tmp_path_factory.mktemp(scenario.name)
            period = parse_period(scenario.period)
            window = (date(period.start.year - 1, period.start.month, 1), period.end)
            generated = generate(root / "warehouse.duckdb", seed=scenario.seed, window=window,
                                 today=scenario.today, period=(period.start, period.end),
                                 features=scenario.features)  # fmt: skip
            out = root / "out"
            options: dict = {"readings": Readings(**scenario.readings)}
            if scenario.rates:
                options["rates_file"] = root / "rates.csv"
                options["rates_file"].write_text("half_year,legal_rate,source\n" + "".join(
                    f"{h},{r},test resolution\n" for h, r in scenario.rates.items()))
            if scenario.administrations:
                options["administrations_file"] = _administrations_file(
                    root / "administrations.yaml", scenario.administrations)
            with clock.pinned(scenario.now):
                build_reports(generated.path, period, out, reports_db=out / "reports.duckdb",
                              checks=False, **options)  # fmt: skip
            invoices = oracle.read_warehouse(generated.path)
            figures = oracle.compute(invoices, period.start, period.end, scenario.today,
                                     scenario.reading)  # fmt: skip
            trend = {p.label: oracle.compute(invoices, p.start, p.end, scenario.today, scenario.reading)
                     for p in period.trend()}  # fmt: skip
            done[scenario.name] = Run(out / "reports.duckdb", figures, invoices, trend,
                                      generated.path, options)  # fmt: skip
        return done[scenario.name]

    return get


def random_scenarios(count: int) -> list[Scenario]:
    """``count`` more scenarios for a deeper run (``ORACLE_SEEDS=20``): a random month or
    quarter from 2016 to 2026, reported while it runs or after it closed, at a random hour of a
    Madrid night or day; every feature on. Not run by default (one dbt build each)."""
    scenarios = []
    for n in range(count):
        rng = random.Random(1000 + n)
        year = rng.choice([2016, 2017, 2018, 2019, 2021, 2024, 2025, 2026])
        label = f"{year}-Q{rng.randint(1, 4)}" if rng.random() < 0.5 else f"{year}-{rng.randint(1, 12):02d}"
        period = parse_period(label)
        day = period.start + timedelta(days=rng.randint(0, (period.end - period.start).days + 90))
        now = f"{day.isoformat()}T{rng.choice(['00:30', '09:00', '21:30', '22:30', '23:30'])}:00Z"
        scenarios.append(Scenario(f"random_{1000 + n}_{label}", 1000 + n, label, now,
                                  Features(unknown_entity=rng.random() < 0.5, future_facts=True)))
    return scenarios


def _cases() -> list:
    cases = []
    for scenario in SCENARIOS + random_scenarios(int(os.environ.get("ORACLE_SEEDS", "0"))):
        for figure in FIGURES:
            reason = scenario.known_failing.get(figure)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(scenario, figure, marks=marks, id=f"{scenario.name}-{figure}"))
    return cases


@pytest.mark.parametrize(("scenario", "figure"), _cases())
def test_marts_equal_the_law(runs, scenario: Scenario, figure: str):
    """Every figure of the marts equals the oracle's (the law) on a generated warehouse."""
    run = runs(scenario)
    disagreements = FIGURES[figure](run)
    shown = "\n".join(disagreements[:25])
    assert not disagreements, f"{len(disagreements)} disagreements:\n{shown}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_a_run_in_memory_writes_the_files_of_the_checked_marts(runs, scenario: Scenario, tmp_path):
    """The oracle checks marts kept in a file; a report run builds them in memory (the default)
    and writes its outputs through dbt-duckdb's connection. Same clock, same warehouse: the
    same CSV bytes and the same headline."""
    run = runs(scenario)
    with clock.pinned(scenario.now):
        build_reports(run.warehouse, scenario.period, tmp_path, checks=False, **run.options)
    checked = run.db.parent
    names = sorted(p.name for p in checked.glob("*.csv"))
    assert names and names == sorted(p.name for p in tmp_path.glob("*.csv"))
    for name in names:
        assert (tmp_path / name).read_bytes() == (checked / name).read_bytes(), name
    meta = [json.loads((d / "report.json").read_text(encoding="utf-8")) for d in (checked, tmp_path)]
    assert meta[0]["headline"] == meta[1]["headline"] and meta[0]["status"] == meta[1]["status"]
    assert not list(tmp_path.glob("*.duckdb*"))


def test_generated_warehouses_cover_the_cases(runs):
    """The comparisons only prove something if the data holds the hard cases."""
    run = runs(SCENARIOS[1])
    ops = run.figures.operations.values()
    invoices = run.invoices
    assert sum(i.is_quarantined for i in invoices) >= 3
    assert sum(i.is_credit_note for i in invoices) >= 3
    assert sum(op.left_out == "rejected" for op in ops) >= 3
    assert sum(bool(i.excluded_from_scope()) for i in invoices) >= 4
    assert any(i.entity_nif is None for i in invoices)
    assert sum(op.is_start_inferred and op.role == "paid" for op in ops) >= 3
    capped = [op for op in ops if op.interest_due_on and op.interest_due_on < op.legal_due_on]
    assert len(capped) >= 3  # conformity more than 30 days after the registry entry
    assert any(i.registered_on == date(2024, 2, 29) for i in invoices)
    assert any(i.payment_date is None and "PAID" in i.hub and "PAID" not in i.accounting
               for i in invoices)  # fmt: skip
    assert {op.role for op in ops} >= {"paid", "pending", None}
    assert run.figures.art10 and run.figures.interest


# ---------------------------------------------------------------------------------------------
# The oracle against the worked examples of §6 (no warehouse, no dbt)
# ---------------------------------------------------------------------------------------------


def _inv(iid: str, amount: int, registered: date, entity: str = "E1", **states: date) -> Invoice:
    paid = states.pop("PAID", None)
    return Invoice(iid, entity, "B1", Decimal(amount), False, None, registered,
                   hub={k: v for k, v in states.items()}, payment_date=paid)  # fmt: skip


def _worked(year: int = 2025) -> list[Invoice]:
    """§6.1 operations A-E (C's works certification: conformity on its registry day)."""

    def d(month: int, day: int) -> date:
        return date(year, month, day)

    return [
        _inv("A", 1000, d(1, 2), ACCEPTED=d(1, 10), PAID=d(2, 9)),
        _inv("B", 3000, d(1, 5), PAID=d(1, 25)),
        _inv("C", 2000, d(2, 1), ACCEPTED=d(2, 1), PAID=d(3, 13)),
        _inv("D", 4000, d(2, 20), ACCEPTED=d(3, 1)),
        _inv("E", 1000, d(1, 15), ACCEPTED=d(1, 30)),
    ]


def test_oracle_reproduces_the_worked_pmp_examples():
    """§6.1 (31.82), §6.2 old method (7.18), §6.3 global (22.00), §6.4 morosity."""
    q1 = oracle.compute(_worked(), date(2025, 1, 1), date(2025, 3, 31), date(2025, 6, 1))
    e1 = q1.pmp["E1"]
    assert (round(e1.paid_ratio, 2), round(e1.pending_ratio, 2), round(e1.pmp, 2)) == (
        Decimal("28.33"), Decimal("36.00"), Decimal("31.82"))
    old = oracle.compute(_worked(2017), date(2017, 1, 1), date(2017, 3, 31), date(2017, 6, 1))
    assert old.method == "rd635_2014_original"
    assert (round(old.pmp["E1"].paid_ratio, 2), round(old.pmp["E1"].pending_ratio, 2),
            round(old.pmp["E1"].pmp, 2)) == (Decimal("-0.33"), Decimal("16.20"), Decimal("7.18"))
    second = _inv("F", 9000, date(2025, 1, 1), entity="E2", PAID=date(2025, 1, 11))
    both = oracle.compute([*_worked(), second], date(2025, 1, 1), date(2025, 3, 31), date(2025, 6, 1))
    assert round(both.pmp[ALL].pmp, 2) == Decimal("22.00")
    m = q1.morosity["E1"]
    assert (m.paid_in_time_count, m.paid_in_time_amount, m.paid_late_count, m.paid_late_amount) == (
        2, 4000, 1, 2000)
    assert (m.pending_in_time_count, m.pending_late_count, m.pending_late_amount) == (1, 1, 1000)
    assert (m.pmpe_days, m.pmppe_days) == (10, 30)


def test_oracle_reproduces_the_worked_interest_example():
    """§6.5: 10,000 EUR due 2025-01-01, paid 2025-07-31: 636.07 EUR plus 40 EUR."""
    inv = _inv("I", 10000, date(2024, 11, 20), ACCEPTED=date(2024, 12, 2), PAID=date(2025, 7, 31))
    row = oracle.compute([inv], date(2025, 7, 1), date(2025, 9, 30), date(2025, 10, 1)).interest["I"]
    assert (row.due_on, row.days_late, round(row.interest, 2), row.recovery_costs) == (
        date(2025, 1, 1), 211, Decimal("636.07"), Decimal("40.00"))


def test_oracle_caps_the_due_date_at_registry_plus_60():
    """§5.2 / issue 12 case 4: registered 3 Aug, approved 2 Nov, paid 1 Dec is late (due 2 Oct);
    with the opt-in "conformity + 30" reading it is in time."""
    inv = _inv("L", 1000, date(2025, 8, 3), ACCEPTED=date(2025, 11, 2), PAID=date(2025, 12, 1))
    law = oracle.compute([inv], date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 10))
    assert (law.interest["L"].due_on, law.interest["L"].days_late) == (date(2025, 10, 2), 60)
    reading = Reading(interest_due="conformity_30")
    assert not oracle.compute([inv], date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 10),
                              reading).interest  # fmt: skip


def test_oracle_keeps_the_recovery_costs_without_a_rate():
    """§5.3: days in a half-year with no published rate are counted apart; the 40 EUR stand."""
    inv = _inv("H", 1000, date(2026, 5, 1), ACCEPTED=date(2026, 5, 2))
    row = oracle.compute([inv], date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 5)).interest["H"]
    # due 2026-06-01: 29 days of 2026 H1 at 10.15 %, 92 days of 2026 H2 unpublished
    assert (row.days_late, row.unpublished_days, row.recovery_costs) == (121, 92, Decimal(40))
    assert round(row.interest, 2) == round(Decimal(1000) * Decimal("0.1015") * 29 / 365, 2)


def test_oracle_lists_art10_by_calendar_months():
    """§6.6 and §4 case 21: more than three calendar months, strictly; 30 Nov + 3 months is 29 Feb
    in a leap year, so on 29 Feb 2028 it is not yet listed, on 1 Mar it is."""
    invs = [
        _inv("listed", 1500, date(2024, 12, 14), ANNOTATED=date(2024, 12, 15)),
        _inv("recent", 1600, date(2025, 1, 9), ANNOTATED=date(2025, 1, 10)),
        _inv("recognised", 1700, date(2024, 11, 1), ANNOTATED=date(2024, 11, 2),
             RECOGNISED=date(2025, 3, 20)),
        _inv("rejected", 1800, date(2024, 9, 30), ANNOTATED=date(2024, 10, 1),
             REJECTED=date(2024, 10, 5)),
    ]  # fmt: skip
    q1 = oracle.compute(invs, date(2025, 1, 1), date(2025, 3, 31), date(2025, 4, 2))
    assert set(q1.art10) == {"listed"} and q1.art10["listed"].days_since_annotation == 106
    nov30 = [_inv("nov30", 100, date(2027, 11, 30), ANNOTATED=date(2027, 11, 30))]
    on_leap_day = oracle.compute(nov30, date(2028, 2, 1), date(2028, 2, 29), date(2028, 2, 29))
    assert not on_leap_day.art10
    march = oracle.compute(nov30, date(2028, 3, 1), date(2028, 3, 31), date(2028, 3, 1))
    assert march.is_provisional and march.art10["nov30"].three_months_on == date(2028, 2, 29)


def test_oracle_measures_a_running_period_as_of_today():
    """§1.5: pending aged to today, facts dated after today unknown."""
    invs = [
        _inv("pending", 1000, date(2026, 11, 20), ACCEPTED=date(2026, 11, 21)),
        _inv("paid_later", 1000, date(2026, 11, 20), PAID=date(2026, 12, 20)),
    ]
    run = oracle.compute(invs, date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 6))
    assert (run.as_of, run.is_provisional) == (date(2026, 12, 6), True)
    assert run.operations["pending"].pmp_days == 15
    assert run.operations["paid_later"].role == "pending"
    assert run.pmp["E1"].paid_count == 0


def test_oracle_counts_quarantined_and_leaves_out_scope_exclusions():
    """§4.1: a quarantined invoice counts (flagged); §3.1: a public-body supplier (P/Q/S) or a
    declared exclusion leaves the PMP; an unknown entity is reported alone, never pooled."""
    day = date(2025, 1, 10)
    q = _inv("q", 100, day)
    q.is_quarantined = True
    public = _inv("public", 200, day)
    public.supplier_nif = "S0800000J"
    embargo = _inv("embargo", 300, day)
    embargo.scope_exclusion = "embargo"
    nobody = _inv("nobody", 400, day, entity=None)
    run = oracle.compute([q, public, embargo, nobody], date(2025, 1, 1), date(2025, 3, 31),
                         date(2025, 5, 1))  # fmt: skip
    assert (run.pmp["E1"].pending_count, run.pmp["E1"].findings_count) == (1, 1)
    assert (run.pmp["E1"].scope_excluded_count, run.morosity["E1"].scope_excluded_count) == (2, 1)
    assert run.pmp[ALL].pending_amount == 100 and run.pmp[None].pending_amount == 400
    legacy = oracle.compute([q, public, embargo, nobody], date(2025, 1, 1), date(2025, 3, 31),
                            date(2025, 5, 1), Reading.legacy())  # fmt: skip
    assert legacy.pmp[ALL].pending_amount == 900


def test_oracle_scope_of_each_law():
    """§4 case 20: an invoice issued before 2014 is outside the PMP, not outside Ley 3/2004 (it
    is still late and accrues interest); a public-body supplier is outside both (§3.2); an
    embargo leaves only the PMP; a rejection after a material payment does not undo it."""
    old = _inv("old", 600, date(2014, 1, 3))
    old.issue_date = date(2013, 12, 20)
    public = _inv("public", 700, date(2024, 10, 1))
    public.supplier_nif = "P0800000J"
    embargo = _inv("embargo", 800, date(2024, 10, 1))
    embargo.scope_exclusion = "embargo"
    paid_then_rejected = _inv("paid_then_rejected", 900, date(2025, 1, 5), PAID=date(2025, 2, 1),
                              REJECTED=date(2025, 2, 10))  # fmt: skip
    run = oracle.compute([old, public, embargo, paid_then_rejected], date(2025, 1, 1),
                         date(2025, 3, 31), date(2025, 5, 1))  # fmt: skip
    assert (run.pmp["E1"].pending_count, run.pmp["E1"].paid_count) == (0, 1)
    assert run.pmp["E1"].scope_excluded_count == 3
    assert run.morosity["E1"].pending_late_count == 2  # old and embargo
    assert set(run.interest) == {"old", "embargo"}
