"""Bookkeeping of rcflow runs in ``ops.runs``: what ran, when, how it truly ended, what it did.

A run ends as ``ok``, ``failed`` (with its first error's cause), ``interrupted`` (SIGINT or
SIGTERM: it stopped cleanly, its summary counts what it did) or ``abandoned``. Abandoned rows
are runs whose process died without a word (SIGKILL, power cut): a run's row is written and
finished inside one writer session, and only one process can hold the writer lock, so a row still
``running`` when another process opens the warehouse belongs to a dead process. The next run
closes it, with what the dead run left behind (hub calls recorded, invoices stored).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rcflow import clock
from rcflow.warehouse.db import Warehouse
from rcflow.warehouse.failures import storage_failure

RUNNING, OK, FAILED, INTERRUPTED, ABANDONED = "running", "ok", "failed", "interrupted", "abandoned"
ABANDONED_REASON = "its process ended without recording how (killed, the machine stopped, or a full disk)"

log = logging.getLogger("rcflow.runs")
_TOKEN = secrets.token_hex(6)


def _process() -> dict[str, object]:
    """Who runs this: enough for an operator to find it, and a token no other process shares."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "process": f"{pid}-{_TOKEN}"}


def new_run_id(kind: str) -> str:
    return f"{kind}-{clock.now():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(wh: Warehouse, run_id: str, kind: str) -> None:
    """Close what dead processes left ``running``, then record this run as running."""
    close_abandoned(wh, by=run_id)
    with wh.transaction() as con:
        con.execute(
            "insert into ops.runs (run_id, kind, started_at, status, summary) values (?, ?, ?, ?, ?)",
            [run_id, kind, clock.now(), RUNNING, json.dumps(_process())],
        )


def finish_run(wh: Warehouse, run_id: str, *, status: str, summary: dict[str, object]) -> None:
    with wh.transaction() as con:
        con.execute(
            "update ops.runs set finished_at = ?, status = ?, summary = ? where run_id = ?",
            [clock.now(), status, json.dumps({**summary, **_process()}, default=str), run_id],
        )


def close_abandoned(wh: Warehouse, *, by: str) -> list[str]:
    """Mark ``abandoned`` every run left ``running`` by another (necessarily dead) process."""
    mine = _process()["process"]
    rows = wh.fetch(
        "select run_id, kind, started_at, summary from ops.runs where status = ?"
        " and coalesce(json_extract_string(summary, '$.process'), '') <> ?",
        [RUNNING, mine],
    )
    for run_id, kind, started_at, summary in rows:
        left = json.loads(summary) if summary else {}
        left.update(_left_behind(wh, kind, run_id, started_at), reason=ABANDONED_REASON, closed_by=by)
        with wh.transaction() as con:
            con.execute(
                "update ops.runs set status = ?, finished_at = ?, summary = ? where run_id = ?",
                [ABANDONED, clock.now(), json.dumps(left, default=str), run_id],
            )
        log.warning("run %s was left running by a dead process; recorded as abandoned", run_id)
    return [r[0] for r in rows]


def _left_behind(wh: Warehouse, kind: str, run_id: str, started_at: object) -> dict[str, object]:
    """What a run did, read from what it committed (no other writer ran since it started)."""
    if kind == "push":
        sent, calls = wh.fetch(
            "select count(*) filter (where http_status = 200), count(*) from ops.push_audit where run_id = ?",
            [run_id],
        )[0]
        pending = wh.fetch(
            "select count(*) from ops.push_outbox where run_id = ? and status = 'pending'", [run_id]
        )[0][0]
        return {"pushed": sent, "hub_calls_recorded": calls, "left_pending": pending}
    if kind in {"sync", "backfill"}:
        new, acknowledged = wh.fetch(
            "select count(*) filter (where first_seen_at >= ?), count(*) filter (where delivered_at >= ?)"
            " from raw.invoices",
            [started_at, started_at],
        )[0]
        return {"invoices_new": new, "invoices_acknowledged": acknowledged}
    return {}


def _committed(wh: Warehouse, run_id: str) -> dict[str, object]:
    """What a run that did not end normally committed, counted in the warehouse itself."""
    found = wh.fetch("select kind, started_at from ops.runs where run_id = ?", [run_id])
    return _left_behind(wh, found[0][0], run_id, found[0][1]) if found else {}


def cause_line(exc: BaseException) -> str:
    """The first error's cause on one line (for the run's record)."""
    failure = storage_failure(exc)
    if failure is not None:
        return str(failure)
    text = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def recorded_run(
    wh: Warehouse,
    run_id: str,
    kind: str,
    *,
    summary: Callable[[], dict[str, object]],
    ok: Callable[[], bool],
) -> Iterator[None]:
    """Record the run in ``ops.runs`` for the duration of the block, ending as it truly ended.

    ``summary`` is read at the end, whatever the ending, so an interrupted or failed run keeps the
    counts of what it did. Recording the end of a failed run never hides the failure itself.
    """
    start_run(wh, run_id, kind)
    try:
        yield
    except (KeyboardInterrupt, asyncio.CancelledError):
        _finish_quietly(wh, run_id, INTERRUPTED, summary, None)
        raise
    except BaseException as exc:
        _finish_quietly(wh, run_id, FAILED, summary, cause_line(exc))
        raise
    finish_run(wh, run_id, status=OK if ok() else FAILED, summary=summary())


def _finish_quietly(
    wh: Warehouse, run_id: str, status: str, summary: Callable[[], dict[str, object]], error: str | None
) -> None:
    try:
        data = {**summary(), **_committed(wh, run_id), "ok": False}
        if error:
            data["error"] = error
        finish_run(wh, run_id, status=status, summary=data)
    except Exception:  # e.g. a corrupt or full warehouse: the run's own error is the one to report
        log.warning("could not record the end of run %s", run_id, exc_info=True)


def warehouse_failed(exc: BaseException) -> bool:
    """The warehouse or its store failed (held by another writer, a full disk, unwritable, corrupt),
    not one hub: a run over several hubs stops there, since none of the others could do better."""
    from rcflow.warehouse.db import WarehouseBusy
    from rcflow.warehouse.failures import StorageFailure

    return isinstance(exc, StorageFailure | WarehouseBusy) or storage_failure(exc) is not None
