"""The push outbox and audit log: intent written before each PATCH, outcome after, all in bulk.

An outbox entry the hub refused (4xx) keeps the payload it refused: ``ops.owed_updates`` holds
that payload back (the push plan does not send it again), only another one for the same state,
or the same after an operator's :func:`retry_refused`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from rcflow import clock
from rcflow.warehouse.db import Warehouse
from rcflow.warehouse.tables import TABLES

TS = pa.timestamp("us", tz="UTC")
OUTBOX, AUDIT = TABLES["ops.push_outbox"], TABLES["ops.push_audit"]


@dataclass(frozen=True)
class Intent:
    """A PATCH about to be sent: which invoice, which state, the body."""

    invoice_id: str
    state: str
    payload: dict[str, str]


@dataclass(frozen=True)
class Call:
    """One PATCH as the hub answered it (no status: no answer at all); ``hub_reference``: the
    hub's reference of the call (FACe's codigoSeguimiento), kept in the audit log."""

    http_status: int | None
    error_code: str | None
    error_message: str | None
    hub_reference: str | None = None


@dataclass(frozen=True)
class Outcome:
    invoice_id: str
    state: str
    payload: dict[str, str]
    status: str  # sent | refused | failed | confirmed (found on the hub after an ambiguous call)
    calls: tuple[Call, ...] = ()

    @property
    def last(self) -> Call:
        return self.calls[-1] if self.calls else Call(None, None, None)


def _now() -> datetime:
    return clock.now()


def record_intents(wh: Warehouse, updates: Sequence[Intent], run_id: str) -> None:
    """Durably note the PATCHes about to be sent (status 'pending')."""
    if not updates:
        return
    now = _now()
    table = pa.table(
        {
            "invoice_id": pa.array([u.invoice_id for u in updates], pa.string()),
            "state": pa.array([u.state for u in updates], pa.string()),
            "payload": pa.array([json.dumps(u.payload) for u in updates], pa.string()),
            "status": pa.array(["pending"] * len(updates), pa.string()),
            "created_at": pa.array([now] * len(updates), TS),
            "updated_at": pa.array([now] * len(updates), TS),
            "run_id": pa.array([run_id] * len(updates), pa.string()),
        }
    )
    with wh.transaction():
        wh.upsert(OUTBOX.name, table, list(OUTBOX.key), keep=list(OUTBOX.keep))


def record_outcomes(wh: Warehouse, outcomes: Sequence[Outcome], run_id: str) -> None:
    """Write outcomes to the outbox and append the PATCHes actually made to the audit log."""
    if not outcomes:
        return
    now = _now()
    status = {"confirmed": "sent"}
    outbox = pa.table(
        {
            "invoice_id": pa.array([o.invoice_id for o in outcomes], pa.string()),
            "state": pa.array([o.state for o in outcomes], pa.string()),
            "payload": pa.array([json.dumps(o.payload) for o in outcomes], pa.string()),
            "status": pa.array([status.get(o.status, o.status) for o in outcomes], pa.string()),
            "attempts": pa.array([len(o.calls) for o in outcomes], pa.int32()),
            "http_status": pa.array([o.last.http_status for o in outcomes], pa.int32()),
            "error_code": pa.array([o.last.error_code for o in outcomes], pa.string()),
            "error_message": pa.array([o.last.error_message for o in outcomes], pa.string()),
            "created_at": pa.array([now] * len(outcomes), TS),
            "updated_at": pa.array([now] * len(outcomes), TS),
            "run_id": pa.array([run_id] * len(outcomes), pa.string()),
        }
    )
    calls = [(o, c) for o in outcomes for c in o.calls]
    audit = pa.table(
        {
            "invoice_id": pa.array([o.invoice_id for o, _ in calls], pa.string()),
            "state": pa.array([o.state for o, _ in calls], pa.string()),
            "payload": pa.array([json.dumps(o.payload) for o, _ in calls], pa.string()),
            "http_status": pa.array([c.http_status for _, c in calls], pa.int32()),
            "error_code": pa.array([c.error_code for _, c in calls], pa.string()),
            "error_message": pa.array([c.error_message for _, c in calls], pa.string()),
            "called_at": pa.array([now] * len(calls), TS),
            "run_id": pa.array([run_id] * len(calls), pa.string()),
            "hub_reference": pa.array([c.hub_reference for _, c in calls], pa.string()),
        }
    )
    with wh.transaction():
        wh.upsert(OUTBOX.name, outbox, list(OUTBOX.key), keep=list(OUTBOX.keep))
        wh.append(AUDIT.name, audit)


def resolve_confirmed(wh: Warehouse) -> int:
    """Close outbox entries left open (crash, lost answer) whose state the hub now shows."""
    with wh.transaction() as con:
        row = con.execute(
            "update ops.push_outbox o set status = 'sent', updated_at = now(),"
            " error_message = 'confirmed on the hub after an interrupted push'"
            " where status in ('pending', 'failed') and exists ("
            "  select 1 from raw.invoice_states s"
            "  where s.invoice_id = o.invoice_id and s.state = o.state)"
        ).fetchall()
    return int(row[0][0]) if row else 0


def retry_refused(wh: Warehouse, invoice_ids: Sequence[str] | None = None) -> int:
    """Make refused entries owed again (the next push sends them once more); returns how many.

    For a refusal that was the hub's own problem, since fixed: the refusal stays in the audit log.
    """
    where = "status = 'refused'"
    params: list[object] = [clock.now()]
    if invoice_ids is not None:
        where += " and list_contains(?, invoice_id)"
        params.append(list(invoice_ids))
    with wh.transaction() as con:
        row = con.execute(
            "update ops.push_outbox set status = 'failed', updated_at = ?,"
            " error_message = 'retry asked by the operator after: ' || coalesce(error_message, 'a refusal')"
            f" where {where}",
            params,
        ).fetchall()
    return int(row[0][0]) if row else 0
