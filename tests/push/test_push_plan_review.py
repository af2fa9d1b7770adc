"""What the plan holds back and why: quarantine reviews (release, reopen), REJECTED as the remedy for
a quality finding, and payloads the hub refused that are not sent again until the data changes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from rcflow import clock
from rcflow.push.plan import plan_from_warehouse
from rcflow.warehouse import Warehouse
from rcflow.warehouse.outbox import retry_refused
from rcflow.warehouse.quarantine import ReviewRefused, open_findings, open_quarantines, record_review

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
T2 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def add_event(wh: Warehouse, invoice_id: str, state: str, day: str, **extra: str) -> None:
    wh.con.execute(
        "insert into ops.accounting_events values (?, ?, ?, ?, ?, ?, 'imp', 1)",
        [
            invoice_id,
            state,
            date.fromisoformat(day),
            extra.get("rcf"),
            extra.get("code"),
            extra.get("reason"),
        ],
    )


def quarantine(
    wh: Warehouse, invoice_id: str, reason: str, *, stage: str = "quality", at: datetime = T0, detail="d"
) -> None:
    rows = pa.table({"invoice_id": [invoice_id], "reason": [reason], "detail": [detail]})
    with wh.registered("_affected", rows):
        open_quarantines(wh.con, "_affected", stage=stage, at=at)


def review(wh: Warehouse, action: str, *ids: str, at: datetime = T1) -> list:
    return record_review(wh, list(ids), action=action, by="ana", note="checked with the supplier", at=at)


def test_release_lets_the_next_push_send_it_and_is_audited(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        add_event(wh, "100", "ANNOTATED", "2025-01-12", rcf="RCF-100")
        quarantine(wh, "100", "xml_matches_hub")
        plan = plan_from_warehouse(wh)
        assert "100" not in plan.owed
        [hold] = plan.holds
        assert (hold.invoice_id, hold.states, hold.kind) == ("100", ("ANNOTATED",), "quarantine")
        assert hold.reason == "quality: xml_matches_hub" and plan.needs_attention

        changed = review(wh, "release", "100")
        assert [(f.invoice_id, f.reason) for f in changed] == [("100", "xml_matches_hub")]
        plan = plan_from_warehouse(wh)
        assert [u.state.value for u in plan.owed["100"]] == ["ANNOTATED"] and not plan.holds
        audit = wh.fetch(
            "select review_id, invoice_id, stage, reason, action, reviewed_by, reviewed_at, note"
            " from ops.quarantine_reviews"
        )
        assert audit == [
            (1, "100", "quality", "xml_matches_hub", "release", "ana", T1, "checked with the supplier")
        ]
        # Released, not resolved: the finding stays open (the reports still see it), never deleted.
        assert wh.fetch("select count(*), count(resolved_at) from ops.quarantine") == [(1, 0)]
        [finding] = open_findings(wh.con)
        assert finding.status == "released" and not finding.is_holding


def test_reopen_holds_it_again_and_both_reviews_stay(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        add_event(wh, "100", "ANNOTATED", "2025-01-12", rcf="RCF-100")
        quarantine(wh, "100", "xml_matches_hub")
        review(wh, "release", "100")
        assert review(wh, "release", "100") == []  # already released: nothing recorded twice
        review(wh, "reopen", "100", at=T2)
        assert [h.invoice_id for h in plan_from_warehouse(wh).holds] == ["100"]
        assert wh.fetch("select review_id, action from ops.quarantine_reviews order by 1") == [
            (1, "release"),
            (2, "reopen"),
        ]


def test_a_release_covers_the_findings_as_they_stood(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        for invoice_id in ("100", "500"):
            add_event(wh, invoice_id, "ANNOTATED", "2025-01-30", rcf=f"RCF-{invoice_id}")
            quarantine(wh, invoice_id, "xml_matches_hub", detail="total: hub 100.00, xml 90.00")
        review(wh, "release", "100", "500")
        # Found again by a later check while still open, unchanged: the release stands.
        quarantine(wh, "100", "xml_matches_hub", at=T2, detail="total: hub 100.00, xml 90.00")
        assert plan_from_warehouse(wh).holds == []
        # 100: resolved (a check found it passing), then the problem comes back: held again.
        wh.con.execute("update ops.quarantine set resolved_at = ? where invoice_id = '100'", [T2])
        quarantine(wh, "100", "xml_matches_hub", at=T2, detail="total: hub 100.00, xml 90.00")
        # 500: the finding changed (another figure): held again.
        quarantine(wh, "500", "xml_matches_hub", at=T2, detail="total: hub 100.00, xml 80.00")
        assert sorted(h.invoice_id for h in plan_from_warehouse(wh).holds) == ["100", "500"]
        # A new, different finding on a released invoice holds it too.
        review(wh, "release", "100", "500", at=T2)
        assert plan_from_warehouse(wh).holds == []
        quarantine(wh, "500", "seller_nif_valid", at=T2)
        assert [(h.invoice_id, h.reason) for h in plan_from_warehouse(wh).holds] == [
            ("500", "quality: seller_nif_valid")
        ]


def test_rejected_by_accounting_passes_a_quality_quarantine_only(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        for invoice_id, stage in (("100", "quality"), ("500", "facturae")):
            add_event(wh, invoice_id, "ANNOTATED", "2025-01-30", rcf=f"RCF-{invoice_id}")
            add_event(wh, invoice_id, "REJECTED", "2025-02-01", code="E01", reason="l'XML no quadra")
            quarantine(
                wh, invoice_id, "xml_matches_hub" if stage == "quality" else "malformed_xml", stage=stage
            )
        plan = plan_from_warehouse(wh)
        # The rejection is the remedy for bad data: its path (ANNOTATED, then REJECTED) is pushed.
        assert [u.state.value for u in plan.owed["100"]] == ["ANNOTATED", "REJECTED"]
        # A file that does not parse needs a person's release, rejection or not.
        assert [(h.invoice_id, h.states) for h in plan.holds] == [("500", ("ANNOTATED", "REJECTED"))]
        [passed] = [f for f in open_findings(wh.con) if f.invoice_id == "100"]
        assert passed.status.startswith("passed")


def test_rejected_does_not_pass_a_finding_about_the_accounting_events(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        add_event(wh, "100", "REJECTED", "2099-01-01", code="E01", reason="future")
        quarantine(wh, "100", "event_not_in_future")
        wh.con.execute(
            "insert into ops.quality_results (run_id, suite, expectation, success, blocking, checked_at)"
            " values ('r', 'accounting_events_suite', 'event_not_in_future', false, false, ?)",
            [T0],
        )
        assert [h.invoice_id for h in plan_from_warehouse(wh).holds] == ["100"]


def test_reviews_refused_whole(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        quarantine(wh, "100", "xml_matches_hub")
        with pytest.raises(ReviewRefused, match="no open quarantine for 200"):
            review(wh, "release", "100", "200")
        for note in ("  ", "bad\x1b[31m", "x" * 1001):
            with pytest.raises(ReviewRefused):
                record_review(wh, ["100"], action="release", by="ana", note=note, at=T1)
        assert wh.fetch("select count(*) from ops.quarantine_reviews") == [(0,)]


def _refused(wh: Warehouse, invoice_id: str, payload: dict, http_status: int = 400) -> None:
    wh.con.execute(
        "insert into ops.push_outbox values"
        " (?, ?, ?, 'refused', 1, ?, '3007', 'estat no permès', ?, ?, 'r1')",
        [invoice_id, payload["estat"], json.dumps(payload), http_status, T0, T0],
    )


def test_a_rate_limit_or_credentials_answer_is_not_a_refusal_of_the_data(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        add_event(wh, "100", "ANNOTATED", "2025-01-12", rcf="RCF-100")
        _refused(wh, "100", {"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-100"}, http_status=429)
        assert [u.state.value for u in plan_from_warehouse(wh).owed["100"]] == ["ANNOTATED"]


def test_a_refused_payload_is_not_sent_again_until_the_data_changes(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh:
        add_event(wh, "100", "ANNOTATED", "2025-01-12", rcf="RCF-100")
        add_event(wh, "100", "RECOGNISED", "2025-02-01")
        _refused(wh, "100", {"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-100"})
        plan = plan_from_warehouse(wh)
        assert "100" not in plan.owed
        [hold] = plan.holds
        assert (hold.kind, hold.states) == ("refused", ("ANNOTATED", "RECOGNISED"))  # order kept
        assert "HTTP 400, code 3007" in hold.reason and "estat no permès" in hold.reason
        assert plan.needs_attention
        # The accounting system corrects the RCF number: a different payload, owed again.
        wh.con.execute("update ops.accounting_events set rcf_number = 'RCF-100-B' where state = 'ANNOTATED'")
        plan = plan_from_warehouse(wh)
        assert [u.state.value for u in plan.owed["100"]] == ["ANNOTATED", "RECOGNISED"] and not plan.holds


def test_an_operator_can_ask_for_a_retry_of_the_same_payload(seeded: Path) -> None:
    with Warehouse(seeded, publish=False) as wh, clock.pinned(T2):
        add_event(wh, "100", "ANNOTATED", "2025-01-12", rcf="RCF-100")
        _refused(wh, "100", {"estat": "ANNOTATED", "numeroRegistreRCF": "RCF-100"})
        assert plan_from_warehouse(wh).holds
        assert retry_refused(wh) == 1
        assert [u.state.value for u in plan_from_warehouse(wh).owed["100"]] == ["ANNOTATED"]
        row = wh.fetch("select status, error_message, updated_at from ops.push_outbox")[0]
        assert row[0] == "failed" and row[1].startswith("retry asked by the operator")
        assert timedelta(0) <= row[2] - T2 < timedelta(minutes=1)  # the rcflow clock, not the OS
