"""``ops.signature_requests`` and ``ops.signature_events``: the documents sent for signature.

A request is written *before* the document leaves (state ``sending``), so a crash between the
service's answer and the next write leaves a row a later run completes instead of sending again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class SignatureRecord:
    reference: str
    service: str
    document: str
    period: str
    lang: str
    sent_sha256: str
    operation_id: str | None
    state: str
    signed_sha256: str | None
    updated_at: datetime


_COLUMNS = (
    "reference, service, document, period, lang, sent_sha256, operation_id, state, signed_sha256, updated_at"
)
FINAL_STATES = ("signed", "rejected", "cancelled")


def _event(con: duckdb.DuckDBPyConnection, reference: str, state: str, detail: str, at: datetime) -> None:
    con.execute(
        "insert into ops.signature_events values (?, ?, ?, ?)", [reference, state, detail or None, at]
    )


def record_intent(
    con: duckdb.DuckDBPyConnection,
    *,
    reference: str,
    service: str,
    document: str,
    period: str,
    lang: str,
    sent_sha256: str,
    signatories: Sequence[dict[str, object]],
    at: datetime,
) -> bool:
    """Write the request before sending; False if ``reference`` is already recorded."""
    done = con.execute(
        "insert into ops.signature_requests values (?, ?, ?, ?, ?, ?, ?, null, 'sending', null, ?, ?)"
        " on conflict do nothing returning reference",
        [reference, service, document, period, lang, sent_sha256, json.dumps(list(signatories)), at, at],
    ).fetchall()
    if done:
        _event(con, reference, "sending", "", at)
    return bool(done)


def record_state(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    state: str,
    *,
    at: datetime,
    operation_id: str | None = None,
    signed_sha256: str | None = None,
    detail: str = "",
) -> None:
    """Move a request to ``state`` (an event is kept only when something changed)."""
    changed = con.execute(
        "update ops.signature_requests set state = ?, operation_id = coalesce(?, operation_id),"
        " signed_sha256 = coalesce(?, signed_sha256), updated_at = ?"
        " where reference = ? and (state <> ? or operation_id is distinct from coalesce(?, operation_id)"
        "   or signed_sha256 is distinct from coalesce(?, signed_sha256)) returning reference",
        [state, operation_id, signed_sha256, at, reference, state, operation_id, signed_sha256],
    ).fetchall()
    if changed:
        _event(con, reference, state, detail, at)


def requests(
    con: duckdb.DuckDBPyConnection,
    *,
    open_only: bool = False,
    reference: str | None = None,
    document: tuple[str, str, str] | None = None,
) -> list[SignatureRecord]:
    """Requests, newest first: all, those not yet final, one, or those of (document, period, lang)."""
    where: list[str] = []
    params: list[str] = []
    if open_only:
        where.append(f"state not in {FINAL_STATES}")
    if reference is not None:
        where.append("reference = ?")
        params.append(reference)
    if document is not None:
        where.append("document = ? and period = ? and lang = ?")
        params.extend(document)
    clause = f" where {' and '.join(where)}" if where else ""
    rows = con.execute(
        f"select {_COLUMNS} from ops.signature_requests{clause} order by created_at desc, reference", params
    ).fetchall()
    return [SignatureRecord(*row) for row in rows]
