"""Each expectation against data that breaks it and data that passes it (one real GX run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from qual_data import NOW, quarantine, query
from qual_scenarios import BLOCKING, FLAGGED, MANY, QUARANTINED

from rcflow.quality import CheckReport
from rcflow.quality.suites import all_suites

RULES = [rule.name for suite in all_suites() for rule in suite.rules]
ROW_LEVEL = [name for name in RULES if name not in BLOCKING]

Checked = tuple[Path, CheckReport]


def test_every_rule_is_exercised_by_the_scenario() -> None:
    """Every non-blocking rule has invoices that break it here (blocking ones: test_quality_blocking)."""
    assert set(QUARANTINED) | set(FLAGGED) == set(ROW_LEVEL)
    assert len(RULES) == len(set(RULES))  # a rule name is a quarantine reason: unique


@pytest.mark.parametrize("reason", sorted(QUARANTINED))
def test_rule_quarantines_exactly_the_invoices_that_break_it(checked_scenario: Checked, reason: str) -> None:
    """The quarantine holds every invoice that breaks the rule, and no other."""
    path, report = checked_scenario
    assert quarantine(path).get(reason, set()) == QUARANTINED[reason]
    assert report.quarantined[reason] == len(QUARANTINED[reason])


@pytest.mark.parametrize("reason", sorted(FLAGGED))
def test_flags_are_counted_not_quarantined(checked_scenario: Checked, reason: str) -> None:
    """Credit notes and PAID without a payment date are flagged, never quarantined."""
    path, report = checked_scenario
    assert reason not in quarantine(path)
    assert report.flagged[reason] == len(FLAGGED[reason])
    outcome = next(o for o in report.outcomes if o.expectation == reason)
    assert set(outcome.sample_invoice_ids) == FLAGGED[reason]
    assert outcome.success and outcome.flagged and not outcome.blocking  # flagged, not failed


def test_clean_invoices_pass_every_rule(checked_scenario: Checked) -> None:
    """EU VAT suppliers, NIF/NIE, public state codes, equal dates and timestamps all pass."""
    path, report = checked_scenario
    caught = set().union(*quarantine(path).values())
    sampled = {i for o in report.outcomes for i in o.sample_invoice_ids}
    assert not {i for i in caught | sampled if i.startswith("ok-")}


def test_row_level_failures_do_not_block(checked_scenario: Checked) -> None:
    """Quarantine is the answer to bad rows; the gate stays open."""
    _, report = checked_scenario
    assert report.ok
    assert report.blocking_failures == []
    assert all(o.error is None for o in report.outcomes)  # GX and the quarantine SQL agree
    assert {o.expectation for o in report.outcomes if o.blocking} == BLOCKING


def test_results_are_recorded_per_expectation(checked_scenario: Checked) -> None:
    """One ops.quality_results row per expectation, with counts, samples, the suite version and
    the severity."""
    path, _ = checked_scenario
    rows = query(
        path,
        "select suite, expectation, column_name, success, blocking, unexpected_count,"
        " sample_invoice_ids, checked_at, suite_version, severity, error"
        " from quality_results where run_id = 'check-scenario'",
    )
    assert sorted(r[1] for r in rows) == sorted(RULES)
    by_name = {r[1]: r for r in rows}
    suite, _, column, success, blocking, count, sample, checked_at, *rest = by_name["currency_present"]
    assert suite == "invoices_suite" and column == "currency"
    assert rest == ["1", "warning", None]
    assert by_name["invoice_id_unique"][9] == "critical"
    assert (success, blocking, count) == (False, False, 3 + len(MANY))
    assert len(sample) == 20 and sample == sorted(sample)
    assert checked_at == NOW
    assert by_name["invoice_id_unique"][3:6] == (True, True, 0)


def test_quarantine_rows_carry_a_detail(checked_scenario: Checked) -> None:
    """The detail says what was wrong with the invoice, in words and values."""
    path, _ = checked_scenario
    details = dict(
        query(
            path,
            "select invoice_id || '/' || reason, detail from ops.quarantine where stage = 'quality'",
        )
    )
    assert details["bad-supplier-checksum/supplier_tax_id_valid"] == ("supplier tax id B12345678 is invalid")
    assert details["bad-dir3-short/dir3_well_formed"] == "malformed DIR3: processing unit L0108019"
    assert details["bad-xml-total/xml_matches_hub"] == (
        "Facturae differs from the hub: total hub=121.00 xml=120"
    )
    assert "ANNOTATED with code 2500" in details["bad-code/state_code_matches"]
    assert details["bad-after-paid/nothing_after_final_state"] == ("seq 5: RECOGNISED after final state PAID")
    assert details["bad-paid-before-recognised/milestones_in_order"] == (
        "PAID 2025-01-20 is before RECOGNISED 2025-01-25"
    )
    assert details["bad-parse/facturae_parsed"] == "Facturae quarantined: not XML"


def test_run_is_recorded_and_data_docs_written(checked_scenario: Checked) -> None:
    """ops.runs gets the check run; Data Docs HTML lands in gx/ next to the warehouse."""
    path, report = checked_scenario
    assert query(path, "select kind, status from ops.runs where run_id = 'check-scenario'") == [
        ("check", "ok")
    ]
    assert report.data_docs == path.parent / "gx" / "index.html"
    assert report.data_docs.exists()
    pages = list((path.parent / "gx" / "validations").rglob("*.html"))
    assert len(pages) == 3  # one per suite
