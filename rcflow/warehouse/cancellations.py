"""Cancellation requests, the answers decided for them, and credit assignments (migration 013).

Writes: :func:`store_requests` and :func:`store_credit_assignments` (what a hub listed),
:func:`decide` (an operator's or an accounting file's answer, audited in
``ops.cancellation_decisions``), :func:`mark_sending` (the intent, before the hub is called) and
:func:`record_answers` (what the hub said; an applied acceptance makes the invoice CANCELLED).
Reads: :func:`open_requests` over the view ``ops.open_cancellations``, the one definition of
what is still to be answered, shared by the CLI, ``rcflow status``, the send and the dashboard.

Rules: a request gets one decision sent, once; a decision still ``pending`` (never sent) may be
replaced (it stays in the audit as ``replaced``); after the hub refused one, a new one may be
decided; an ``uncertain`` one (a call whose answer was lost, or an interrupted send) is never
re-sent before the hub is re-read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import duckdb
import pyarrow as pa

from rcflow import clock
from rcflow.lifecycle import LIFECYCLE, State
from rcflow.warehouse.db import Warehouse
from rcflow.warehouse.tables import DEFAULT_HUB, TABLES, with_source

REQUESTS, DECISIONS, CREDIT = (
    TABLES["raw.cancellation_requests"],
    TABLES["ops.cancellation_decisions"],
    TABLES["raw.credit_assignments"],
)
OPEN_VIEW = "ops.open_cancellations"
Decision = Literal["accept", "reject"]
Via = Literal["command", "accounting"]
# raw.cancellation_requests.hub_state; "closed": no longer listed by the hub although rcflow did
# not answer it (answered on the hub's portal, or withdrawn by the supplier).
HUB_STATES = ("requested", "accepted", "rejected", "closed")
MAX_COMMENT = 500

_OPEN_COLUMNS = (
    "invoice_id, source_hub, request_state, requested_at, requested_reason, registry_number, supplier_nif,"
    " supplier_name, amount_cents, invoice_hub_state, decision_seq, decision, comment, decided_by,"
    " decided_at, via, decision_status, attempts, hub_code, hub_message, is_decidable, is_due"
)


class DecisionRefused(ValueError):
    """A decision that cannot be recorded; the message says why, in one line."""


@dataclass(frozen=True)
class DueDecision:
    """A decision the next send carries."""

    invoice_id: str
    decision_seq: int
    decision: Decision
    comment: str
    status: str  # pending | uncertain
    attempts: int
    source_hub: str


@dataclass(frozen=True)
class Answer:
    """What the hub said to one decision (``status``: sent, refused or uncertain)."""

    invoice_id: str
    decision_seq: int
    status: Literal["sent", "refused", "uncertain"]
    hub_code: str | None = None
    hub_message: str | None = None
    calls: int = 1  # hub calls made for it by this send (0: resolved by re-reading the hub)
    hub_reference: str | None = None  # the hub's reference of the answering call (codigoSeguimiento)


# ----------------------------------------------------------------------------- what a hub listed


class ListedRequest(Protocol):
    """A cancellation request as a connector lists it (``rcflow.connectors.base.CancellationRequest``)."""

    invoice_id: str
    requested_at: datetime | None
    reason: str | None
    state: str  # requested | accepted | rejected
    raw_json: str


class ReportedAssignment(Protocol):
    """A credit assignment as a connector reports it (``rcflow.connectors.base.CreditAssignment``)."""

    invoice_id: str
    state_code: str | None
    description: str | None
    raw_json: str


def store_requests(
    wh: Warehouse,
    requests: Sequence[ListedRequest],
    *,
    source: str = DEFAULT_HUB,
    complete: bool = False,
    now: datetime | None = None,
) -> int:
    """Upsert the requests a hub lists (the last of an invoice wins). With ``complete`` (the
    listing covered every office and was not cut), a request of ``source`` stored as requested
    and no longer listed becomes ``closed``."""
    now = now or clock.now()
    latest = {r.invoice_id: r for r in requests}
    table = pa.Table.from_pylist(
        [
            {"invoice_id": r.invoice_id, "requested_at": r.requested_at, "reason": r.reason,
             "hub_state": r.state or "requested", "raw_json": r.raw_json, "first_seen_at": now,
             "fetched_at": now}
            for r in latest.values()
        ],
        schema=REQUESTS.row_schema(),
    )  # fmt: skip
    with wh.transaction() as con:
        if complete:
            with wh.registered("_rcflow_listed", table.select(["invoice_id"])):
                con.execute(
                    "update raw.cancellation_requests set hub_state = 'closed', fetched_at = ?"
                    " where hub_state = 'requested' and source_hub = ?"
                    " and invoice_id not in (select invoice_id from _rcflow_listed)",
                    [now, source],
                )
        wh.upsert(REQUESTS.name, with_source(table, source), list(REQUESTS.key), keep=list(REQUESTS.keep))
    return table.num_rows


def store_credit_assignments(
    wh: Warehouse, assignments: Sequence[ReportedAssignment], *, source: str = DEFAULT_HUB,
    now: datetime | None = None,
) -> int:  # fmt: skip
    """Upsert the credit assignments a hub reported."""
    now = now or clock.now()
    table = pa.Table.from_pylist(
        [{"invoice_id": a.invoice_id, "state_code": a.state_code, "description": a.description,
          "raw_json": a.raw_json, "first_seen_at": now, "fetched_at": now} for a in assignments],
        schema=CREDIT.row_schema(),
    )  # fmt: skip
    with wh.transaction():
        wh.upsert(CREDIT.name, with_source(table, source), list(CREDIT.key), keep=list(CREDIT.keep))
    return table.num_rows


def invoices_without_final_state(
    wh: Warehouse, source: str, final_states: Sequence[str], limit: int
) -> list[str]:
    """Invoices of ``source`` not in a final state, those never asked about their credit
    assignment first, then the longest unasked (at most ``limit``)."""
    return [
        r[0]
        for r in wh.fetch(
            "select i.invoice_id from raw.invoices i"
            " left join raw.credit_assignments c using (invoice_id)"
            " where i.source_hub = ? and not list_contains(?, coalesce(upper(i.hub_state), ''))"
            " order by c.fetched_at nulls first, i.invoice_id limit ?",
            [source, [s.upper() for s in final_states], limit],
        )
    ]


# ----------------------------------------------------------------------------- the read model


def open_requests(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """Every request still to be answered on the hub, with its latest decision, oldest first."""
    con.complete()
    cursor = con.execute(
        f"select {_OPEN_COLUMNS} from {OPEN_VIEW} order by requested_at nulls last, invoice_id"
    )
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def credit_assignments(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    """The credit assignments (cesiones) the hub reported, with their invoices, newest first
    (invoices asked about that have none are not listed)."""
    con.complete()
    cursor = con.execute(
        "select c.invoice_id, c.source_hub, i.registry_number, i.supplier_name, i.amount_cents,"
        " i.hub_state as invoice_hub_state, c.state_code, c.description, c.first_seen_at, c.fetched_at"
        " from raw.credit_assignments c left join raw.invoices i using (invoice_id)"
        " where c.state_code is not null or c.description is not null"
        " order by c.first_seen_at desc, c.invoice_id"
    )
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def resolve_invoice_id(con: duckdb.DuckDBPyConnection, given: str) -> str:
    """The invoice a person names: its id, or a hub registry number without the hub's prefix
    (``123`` for ``face:123``) when exactly one stored request matches."""
    given = given.strip()
    con.complete()
    rows = con.execute(
        "select r.invoice_id from raw.cancellation_requests r left join raw.invoices i using (invoice_id)"
        " where r.invoice_id = ? or i.registry_number = ? or i.face_registry_number = ?"
        " or r.invoice_id like '%:' || ? order by (r.invoice_id = ?) desc, r.invoice_id",
        [given, given, given, given, given],
    ).fetchall()
    ids = list(dict.fromkeys(r[0] for r in rows))
    if not ids:
        raise DecisionRefused(f"no cancellation request for invoice {given!r}")
    if ids[0] == given or len(ids) == 1:
        return ids[0]
    raise DecisionRefused(f"{given!r} is ambiguous: it names {', '.join(ids[:5])}; give the full id")


# ----------------------------------------------------------------------------- decisions


def decide(
    wh: Warehouse,
    invoice_id: str,
    decision: Decision,
    comment: str,
    *,
    decided_by: str,
    via: Via = "command",
    import_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """Record a decision on an open request; returns its ``decision_seq``.

    A pending one (never sent) is replaced; a refused one is followed by a new one. Refused
    (:class:`DecisionRefused`): no open request, a decision already sent or being sent, no reason.
    """
    rows = [(invoice_id, decision, comment)]
    return decide_many(wh, rows, decided_by=decided_by, via=via, import_id=import_id, now=now)[0]


def decision_problems(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, str, str]]
) -> list[str | None]:
    """For each (invoice_id, decision, comment): why it cannot be recorded now, or None."""
    con.complete()
    open_now = {
        invoice_id: (status, decidable, taken, taken_comment)
        for invoice_id, status, decidable, taken, taken_comment in con.execute(
            "select invoice_id, decision_status, is_decidable, decision, comment from ops.open_cancellations"
        ).fetchall()
    }
    on_hub = dict(con.execute("select invoice_id, hub_state from raw.cancellation_requests").fetchall())
    problems: list[str | None] = []
    for invoice_id, decision, comment in rows:
        text = (comment or "").strip()
        if decision not in ("accept", "reject"):
            problems.append(f"decision {decision!r}: expected accept or reject")
        elif not text:
            problems.append(f"{invoice_id}: a reason is required (it is sent to the hub as the comment)")
        elif len(text) > MAX_COMMENT:
            problems.append(f"{invoice_id}: reason of {len(text)} characters; at most {MAX_COMMENT}")
        elif invoice_id not in open_now:
            hub = on_hub.get(invoice_id)
            why = {None: "", "requested": " (its answer was sent)"}.get(
                hub, f" (the request is {hub} on the hub)"
            )
            problems.append(f"{invoice_id}: no open cancellation request{why}")
        else:
            status, decidable, taken, taken_comment = open_now[invoice_id]
            if decidable or (taken, taken_comment) == (decision, text):  # the same again: a no-op
                problems.append(None)
            else:
                problems.append(
                    f"{invoice_id}: a {taken} decision is {status} (being sent): run `rcflow cancellations"
                    " send`; a new decision is possible only if the hub refuses it"
                )
    return problems


def decide_many(
    wh: Warehouse,
    rows: Sequence[tuple[str, str, str]],
    *,
    decided_by: str,
    via: Via = "command",
    import_id: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """:func:`decide` for many (invoice_id, decision, comment), all or nothing."""
    with wh.transaction() as con:
        return decide_in(con, rows, decided_by=decided_by, via=via, import_id=import_id, now=now)


def decide_in(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[tuple[str, str, str]],
    *,
    decided_by: str,
    via: Via = "command",
    import_id: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """:func:`decide_many` inside the caller's transaction (an accounting import's)."""
    now = now or clock.now()
    problems = [p for p in decision_problems(con, rows) if p]
    if problems:
        raise DecisionRefused(
            problems[0] if len(problems) == 1 else f"{len(problems)} problems; first: {problems[0]}"
        )
    seqs = []
    for invoice_id, decision, comment in rows:
        found = con.execute(
            "select decision_seq, decision_status, decision, comment, requested_at"
            " from ops.open_cancellations where invoice_id = ?",
            [invoice_id],
        ).fetchall()
        seq, status, old_decision, old_comment, requested_at = found[0]
        same = (old_decision, old_comment) == (decision, comment.strip())
        if same and status in ("pending", "uncertain"):
            seqs.append(seq)  # the same decision again (an accounting file imported twice)
            continue
        if status == "pending":  # never sent: kept in the audit as replaced
            con.execute(
                "update ops.cancellation_decisions set status = 'replaced'"
                " where invoice_id = ? and decision_seq = ?",
                [invoice_id, seq],
            )
        seq = con.execute(
            "select coalesce(max(decision_seq), 0) + 1 from ops.cancellation_decisions where invoice_id = ?",
            [invoice_id],
        ).fetchall()[0][0]
        con.execute(
            "insert into ops.cancellation_decisions (invoice_id, decision_seq, requested_at, decision,"
            " comment, decided_by, decided_at, via, import_id, status)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
            [invoice_id, seq, requested_at, decision, comment.strip(), decided_by, now, via, import_id],
        )
        seqs.append(seq)
    return seqs


def already_answered(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, str, str]]) -> list[bool]:
    """For each (invoice_id, decision, comment): the hub already has this very answer (the
    invoice's latest decision, sent, says the same): a repeat, not a new decision."""
    con.complete()
    sent = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "select invoice_id, decision, comment from ops.cancellation_decisions"
            " qualify row_number() over (partition by invoice_id order by decision_seq desc) = 1"
            " and status = 'sent'"
        ).fetchall()
    }
    return [sent.get(i) == (d, (c or "").strip()) for i, d, c in rows]


def due_decisions(wh: Warehouse) -> list[DueDecision]:
    """The decisions the next send carries (pending, and uncertain ones to re-read first)."""
    rows = wh.fetch(
        "select invoice_id, decision_seq, decision, comment, decision_status, attempts, source_hub"
        f" from {OPEN_VIEW} where is_due order by decided_at, invoice_id"
    )
    return [DueDecision(*row) for row in rows]


def mark_sending(wh: Warehouse, due: Sequence[DueDecision], run_id: str) -> None:
    """The intent, durable before any call: these decisions may reach the hub from now on."""
    if not due:
        return
    with wh.transaction() as con:
        for d in due:
            con.execute(
                "update ops.cancellation_decisions set status = 'uncertain', attempts = attempts + 1,"
                " run_id = ? where invoice_id = ? and decision_seq = ?",
                [run_id, d.invoice_id, d.decision_seq],
            )


def record_answers(
    wh: Warehouse, answers: Sequence[Answer], run_id: str, *, now: datetime | None = None
) -> None:
    """Write what the hub said. An applied decision answers the request on the hub; an applied
    acceptance makes the invoice CANCELLED (hub state and a history entry), as the hub now shows."""
    if not answers:
        return
    now = now or clock.now()
    with wh.transaction() as con:
        for a in answers:
            con.execute(
                "update ops.cancellation_decisions set status = ?, hub_code = ?, hub_message = ?,"
                " hub_reference = ?, answered_at = ?, run_id = ? where invoice_id = ? and decision_seq = ?",
                [a.status, a.hub_code, a.hub_message, a.hub_reference,
                 now if a.status != "uncertain" else None, run_id, a.invoice_id, a.decision_seq],
            )  # fmt: skip
            if a.status != "sent":
                continue
            (decision,) = con.execute(
                "select decision from ops.cancellation_decisions where invoice_id = ? and decision_seq = ?",
                [a.invoice_id, a.decision_seq],
            ).fetchall()[0]
            con.execute(
                "update raw.cancellation_requests set hub_state = ?, fetched_at = ? where invoice_id = ?",
                ["accepted" if decision == "accept" else "rejected", now, a.invoice_id],
            )
            if decision == "accept":
                _mark_cancelled(con, a, now)


def _mark_cancelled(con: duckdb.DuckDBPyConnection, answer: Answer, now: datetime) -> None:
    """The hub applied an acceptance: the invoice is CANCELLED there (FACe: 3100). The next state
    refresh replaces this entry with the hub's own history."""
    raw = json.dumps({"cancellation": "accepted", "code": answer.hub_code, "message": answer.hub_message})
    con.execute(
        "update raw.invoices set hub_state = ?, hub_state_at = ? where invoice_id = ?",
        [State.CANCELLED.value, now, answer.invoice_id],
    )
    already = con.execute(
        "select count(*) from raw.invoice_states where invoice_id = ? and state = 'CANCELLED'",
        [answer.invoice_id],
    ).fetchall()[0][0]
    if already:
        return
    con.execute(
        "insert into raw.invoice_states"
        " (invoice_id, seq, state, state_code, state_at, raw_json, fetched_at, source_hub)"
        " select i.invoice_id, coalesce((select max(seq) from raw.invoice_states s"
        "  where s.invoice_id = i.invoice_id), -1) + 1, ?, ?, ?, ?, ?, i.source_hub"
        " from raw.invoices i where i.invoice_id = ?",
        [State.CANCELLED.value, LIFECYCLE[State.CANCELLED].public_code, now, raw, now, answer.invoice_id],
    )
