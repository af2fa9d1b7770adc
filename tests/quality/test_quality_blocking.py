"""Table-level breakages (lost keys) close the gate; the error carries the whole report."""

from __future__ import annotations

from pathlib import Path

import pytest
from qual_data import quarantine, query
from qual_scenarios import BLOCKING

from rcflow.quality import CheckReport, DataQualityError, raise_if_blocking

Checked = tuple[Path, CheckReport]


def test_duplicate_and_null_keys_are_blocking(checked_broken_keys: Checked) -> None:
    """Duplicate invoice ids, a null id, duplicate state positions and events all block."""
    _, report = checked_broken_keys
    assert not report.ok
    failed = {o.expectation: o for o in report.blocking_failures}
    assert set(failed) == BLOCKING
    assert failed["invoice_id_unique"].unexpected_count == 2
    assert failed["invoice_id_unique"].sample_invoice_ids == ["dup-1"]
    assert failed["invoice_id_not_null"].unexpected_count == 1
    assert failed["invoice_id_not_null"].sample_invoice_ids == []  # nothing to name
    assert failed["state_seq_unique"].sample_invoice_ids == ["dup-state"]
    assert failed["event_key_unique"].sample_invoice_ids == ["dup-event"]
    assert report.reason().startswith("blocking: invoices_suite@1 invoice_id_not_null: 1 unexpected")


def test_blocked_invoices_are_quarantined_too(checked_broken_keys: Checked) -> None:
    """Every invoice with a duplicated key is quarantined; a null id cannot be, but is counted."""
    path, _ = checked_broken_keys
    held = quarantine(path)
    assert held["invoice_id_unique"] == {"dup-1"}
    assert held["state_seq_unique"] == {"dup-state"}
    assert held["event_key_unique"] == {"dup-event"}
    assert "invoice_id_not_null" not in held
    assert "ok-1" not in set().union(*held.values())


def test_blocking_results_and_failed_run_are_recorded(checked_broken_keys: Checked) -> None:
    path, _ = checked_broken_keys
    rows = query(
        path,
        "select expectation from ops.quality_results"
        " where run_id = 'check-broken' and blocking and not success",
    )
    assert {r[0] for r in rows} == BLOCKING
    assert query(path, "select status from ops.runs where run_id = 'check-broken'") == [("failed",)]


def test_raise_if_blocking_raises_with_the_report(checked_broken_keys: Checked) -> None:
    _, report = checked_broken_keys
    with pytest.raises(DataQualityError) as caught:
        raise_if_blocking(report)
    assert caught.value.report is report
    assert str(caught.value) == report.reason()


def test_raise_if_blocking_passes_a_clean_report(checked_scenario: Checked) -> None:
    _, report = checked_scenario
    assert raise_if_blocking(report) is report
