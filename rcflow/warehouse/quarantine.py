"""``ops.quarantine`` rows: opened (or reopened) by whoever finds a problem, resolved, never deleted;
reviewed (released, reopened) by an operator in the append-only ``ops.quarantine_reviews``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import duckdb

from rcflow.warehouse import owed
from rcflow.warehouse.db import Warehouse

_OPEN = """
insert into ops.quarantine (invoice_id, stage, reason, detail, detected_at, resolved_at)
select invoice_id, ?, reason, detail, ?, null from {affected}
on conflict (invoice_id, stage, reason) do update set
    detail = excluded.detail,
    detected_at = case when resolved_at is null then detected_at else excluded.detected_at end,
    resolved_at = null
"""


def open_quarantines(con: duckdb.DuckDBPyConnection, affected: str, *, stage: str, at: datetime) -> None:
    """One open row per (invoice, reason) of the relation ``affected`` (invoice_id, reason,
    detail): an open row keeps its first detection time, a resolved one reopens as detected ``at``."""
    con.execute(_OPEN.format(affected=affected), [stage, at])


# --- review: release and reopen, recorded in the append-only ops.quarantine_reviews -------------

REVIEW_ACTIONS = ("release", "reopen")
MAX_NOTE = 1000


class ReviewRefused(ValueError):
    """A review that cannot be recorded as asked (unknown invoice, no open finding, bad note)."""


@dataclass(frozen=True)
class Finding:
    """One open quarantine finding with its latest review (ops.quarantine_holds)."""

    invoice_id: str
    stage: str
    reason: str
    detail: str | None
    detected_at: datetime
    is_released: bool
    is_passed_by_rejection: bool
    is_holding: bool
    review_action: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None

    @property
    def label(self) -> str:
        return f"{self.stage}: {self.reason}"

    @property
    def status(self) -> str:
        if self.is_released:
            return "released"
        if self.is_passed_by_rejection:
            return "passed (accounting REJECTED it)"
        return "held"


_FINDING_COLUMNS = ", ".join(f.name for f in fields(Finding))


def open_findings(con: duckdb.DuckDBPyConnection, invoice_ids: Sequence[str] | None = None) -> list[Finding]:
    """Every open finding (held, released or passed), by invoice, stage and reason."""
    sql = f"select {_FINDING_COLUMNS} from ops.quarantine_holds"
    params: list[object] = []
    if invoice_ids is not None:
        sql += " where list_contains(?, invoice_id)"
        params.append(list(invoice_ids))
    rows = con.execute(sql + " order by invoice_id, stage, reason", params).fetchall()
    return [Finding(*row) for row in rows]


def holding_reasons(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Invoice → ``'stage: reason; …'`` of the findings that hold its updates back."""
    rows = con.execute(
        "select invoice_id, string_agg(distinct label, '; ' order by label) from ("
        "  select invoice_id, stage || ': ' || reason as label from ops.quarantine_holds where is_holding"
        ") group by invoice_id"
    ).fetchall()
    return dict(rows)


def _clean_note(note: str) -> str:
    text = note.strip()
    if not text:
        raise ReviewRefused('a review needs a reason: --reason "why"')
    if len(text) > MAX_NOTE:
        raise ReviewRefused(f"the reason is {len(text)} characters long; at most {MAX_NOTE}")
    if any(ord(c) < 32 and c not in "\t" or ord(c) == 127 for c in text):
        raise ReviewRefused("the reason contains control characters")
    return text


def record_review(
    wh: Warehouse,
    invoice_ids: Sequence[str],
    *,
    action: str,
    by: str,
    note: str,
    at: datetime,
) -> list[Finding]:
    """Release or reopen every open finding of ``invoice_ids``, all or nothing.

    ``release`` covers the findings that hold the invoice now, as they stand (detail and
    detection time are copied into the review); ``reopen`` undoes the latest release. Returns the
    findings the review changed; an invoice with nothing to change is not an error, but an
    unknown invoice or one with no open finding refuses the whole review.
    """
    if action not in REVIEW_ACTIONS:
        raise ReviewRefused(f"unknown review action {action!r}")
    text = _clean_note(note)
    who = by.strip()
    if not who:
        raise ReviewRefused("a review needs who made it: --by NAME")
    ids = list(dict.fromkeys(i.strip() for i in invoice_ids))
    findings = open_findings(wh.con, ids)
    without = [i for i in ids if not any(f.invoice_id == i for f in findings)]
    if without:
        raise ReviewRefused(
            f"no open quarantine for {', '.join(without[:10])}"
            + (" …" if len(without) > 10 else "")
            + ": nothing reviewed (see `rcflow quarantine list --all`)"
        )
    if action == "release":
        changed = [f for f in findings if not f.is_released]
    else:
        changed = [f for f in findings if f.is_released]
    if not changed:
        return []
    with wh.transaction() as con:
        (review_id,) = con.execute(
            "select coalesce(max(review_id), 0) + 1 from ops.quarantine_reviews"
        ).fetchone()
        con.executemany(
            "insert into ops.quarantine_reviews (review_id, invoice_id, stage, reason, action, detail,"
            " detected_at, reviewed_by, reviewed_at, note) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[review_id, f.invoice_id, f.stage, f.reason, action, f.detail, f.detected_at, who, at, text]
             for f in changed],
        )  # fmt: skip
    return changed


def held_back(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Invoice → the owed states an open finding holds back, in lifecycle order (ops.owed_updates)."""
    return owed.held_back(con, "quarantine")


def blocked(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """What quarantine blocks from the push now: invoice, the states held back, why."""
    reasons = holding_reasons(con)
    return [
        {"invoice_id": invoice_id, "states": states, "reason": reasons[invoice_id]}
        for invoice_id, states in sorted(held_back(con).items())
    ]
