"""Bookkeeping of rcflow runs in ``ops.runs`` (what ran, when, how it ended, its summary)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from rcflow.warehouse import Warehouse


def new_run_id(kind: str) -> str:
    return f"{kind}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(wh: Warehouse, run_id: str, kind: str) -> None:
    with wh.transaction() as con:
        con.execute(
            "insert into ops.runs (run_id, kind, started_at, status) values (?, ?, ?, 'running')",
            [run_id, kind, datetime.now(UTC)],
        )


def finish_run(wh: Warehouse, run_id: str, *, ok: bool, summary: dict[str, object]) -> None:
    with wh.transaction() as con:
        con.execute(
            "update ops.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
            [datetime.now(UTC), "ok" if ok else "failed", json.dumps(summary, default=str), run_id],
        )
