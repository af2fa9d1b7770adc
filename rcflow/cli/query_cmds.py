"""`rcflow sql` (read-only ad-hoc SQL) and `rcflow status`.

Reads only: imports :mod:`rcflow.warehouse` (readers, snapshot, quarantine), the blob store and
:mod:`rcflow.tabular`; nothing here writes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from rcflow.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    console,
    emit_json,
    existing_warehouse,
    fail,
    handle_errors,
    settings,
)
from rcflow.store import BlobStore
from rcflow.store_audit import blob_problem_count
from rcflow.tabular import CsvDialect, DialectError, csv_dialect, write_csv_stream
from rcflow.warehouse import open_reader, snapshot_path_for
from rcflow.warehouse.cancellations import open_requests
from rcflow.warehouse.failures import storage_failure
from rcflow.warehouse.owed import due_by_state
from rcflow.warehouse.quarantine import blocked

READ_ONLY_TYPES = {"SELECT", "EXPLAIN", "PRAGMA"}
UNCUT_WIDTH = 1_000_000  # off a terminal: a line is as long as its text (rich would cut at 80)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but queries, before running anything."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        fail(f"SQL does not parse: {str(exc).splitlines()[0]}", EXIT_USAGE)
    if not statements:
        fail("no SQL statement given", EXIT_USAGE)
    for statement in statements:
        kind = statement.type.name.upper()
        if kind not in READ_ONLY_TYPES:
            fail(
                f"refused: `rcflow sql` is read-only ({kind} statement); rcflow commands change data",
                EXIT_USAGE,
            )


class _PipedConsole(Console):
    """stdout off a terminal (a file, a pipe): a reader that leaves early raises BrokenPipeError
    (rich would exit 1), for :func:`reader_may_leave`."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def stdout_console() -> Console:
    """The terminal's console on one; off one, lines and tables at their full width, never cut."""
    if console.is_terminal:
        return console
    return _PipedConsole(width=UNCUT_WIDTH, highlight=False)


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Output a reader may stop reading (``| head``): the closed pipe ends the command quietly,
    exit 0 (Python's "Note on SIGPIPE": stdout to /dev/null, so the exit's flush fails no more)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        with suppress(OSError, ValueError):  # no file descriptor: a test's captured stdout
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_OK) from None


def dialect_option(name: str | None) -> CsvDialect:
    """The CSV dialect of an option (else RCFLOW_CSV_DIALECT, else plain); a bad name exits 2."""
    try:
        return csv_dialect(name)
    except DialectError as exc:
        fail(str(exc), EXIT_USAGE)
        raise  # unreachable


def _damage(exc: duckdb.Error, live: bool) -> None:
    """A query that fails because the file read is damaged says which file (exit 7, not 2)."""
    warehouse = settings().warehouse
    failure = storage_failure(exc, database=warehouse if live else snapshot_path_for(warehouse))
    if failure is not None:
        raise failure from exc


def reader(live: bool) -> duckdb.DuckDBPyConnection:
    """A read-only connection; no warehouse at RCFLOW_WAREHOUSE is a configuration error (exit 2)."""
    con = open_reader(existing_warehouse(), live=live)
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


@handle_errors
def sql(
    query: str = typer.Argument(
        ..., help="A SELECT over the views: invoices, invoice_states, attachments, …"
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the last published snapshot."),
    dialect: str = typer.Option(
        None, "--csv-dialect", help="With --format csv: plain | excel-es (default RCFLOW_CSV_DIALECT)"
    ),
) -> None:
    """Run a read-only query on the warehouse (the snapshot writers publish after each run).

    CSV text cells that could run as a spreadsheet formula are prefixed with a quote.
    """
    chosen = dialect_option(dialect) if fmt is Format.csv else CsvDialect.plain
    con = reader(live)
    check_read_only(con, query)
    try:
        result = con.execute(query)
        columns = [d[0] for d in result.description or []]
        rows = result.fetchall()
    except duckdb.Error as exc:
        _damage(exc, live)
        fail(f"query failed: {str(exc).splitlines()[0]}", EXIT_USAGE)
    finally:
        con.close()
    with reader_may_leave():
        if fmt is Format.json:
            emit_json([dict(zip(columns, row, strict=True)) for row in rows])
        elif fmt is Format.csv:
            write_csv_stream(sys.stdout, columns, rows, chosen)
        else:
            table = Table(*columns, caption=f"{len(rows)} row" + ("" if len(rows) == 1 else "s"))
            for row in rows:
                table.add_row(*("" if v is None else str(v) for v in row))
            stdout_console().print(table)


def _status(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    def q(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    by_state = q(
        "select coalesce(hub_state, '?'), count(*), sum(amount) from invoices group by 1 order by 2 desc"
    )
    runs = q(  # the last run of each kind on each hub (a run's summary names its hub as `source`)
        "select kind, run_id, status, started_at, finished_at, json_extract_string(summary, '$.source')"
        " as hub from ops.runs qualify row_number() over (partition by kind, hub order by started_at desc)"
        " = 1 order by kind, hub"
    )
    by_hub = q(
        "select source_hub, count(*), sum(main.cents_to_euros(amount_cents)),"
        " count(*) filter (where delivered_at is null and source = 'pending')"
        " from raw.invoices group by 1 order by 1"
    )
    owed = q("select state, count(*) from ops.push_outbox where status in ('pending', 'failed') group by 1")
    quarantine = q(
        "select stage || ': ' || reason, count(distinct invoice_id) from ops.quarantine"
        " where resolved_at is null group by 1 order by 2 desc"
    )
    unacked = q("select count(*) from raw.invoices where delivered_at is null and source = 'pending'")[0][0]
    try:  # the one definition of what is owed (ops.owed_updates), as the push plan reads it
        events_owed = due_by_state(con)
        held = blocked(con)
        refused = q(
            "select invoice_id, state, refused_status, refused_code, refused_message, refused_at"
            " from ops.owed_updates where is_refused order by invoice_id, state"
        )
    except duckdb.CatalogException:  # a snapshot from before migration 011
        events_owed, held, refused = [], [], []
    try:
        signatures = q(
            "select document, period, lang, state, operation_id, updated_at from ops.signature_requests"
            " order by created_at desc limit 20"
        )
    except duckdb.CatalogException:  # a snapshot from before migration 009
        signatures = []
    try:
        cancellations = open_requests(con)
    except duckdb.CatalogException:  # a snapshot from before migration 013
        cancellations = []
    return {
        "cancellation_requests": _cancellations(cancellations),
        "signatures": [
            {"document": d, "period": p, "lang": lang, "state": st, "operation_id": op, "updated_at": at}
            for d, p, lang, st, op, at in signatures
        ],
        "blocked": held,
        "refused_updates": [
            {"invoice_id": i, "state": s, "http_status": h, "code": c, "reason": m, "at": at}
            for i, s, h, c, m, at in refused
        ],
        "invoices_by_state": [{"state": s, "count": c, "amount": float(a or 0)} for s, c, a in by_state],
        "invoices_by_hub": [
            {"hub": h, "count": c, "amount": float(a or 0), "stored_not_acknowledged": u}
            for h, c, a, u in by_hub
        ],
        "last_runs": [
            {"kind": k, "hub": h, "run_id": r, "status": st, "started_at": s, "finished_at": f}
            for k, r, st, s, f, h in runs
        ],
        "owed_to_hub": [{"state": s, "count": c} for s, c in events_owed],
        "push_outbox_open": [{"state": s, "count": c} for s, c in owed],
        "quarantined": [{"reason": r, "invoices": c} for r, c in quarantine],
        "stored_not_acknowledged": unacked,
    }


def _cancellations(rows: list[dict[str, object]]) -> dict[str, object]:
    """Open cancellation requests (a FACe hub's) and the decisions waiting to be sent."""
    return {
        "open": len(rows),
        "undecided": sum(1 for r in rows if r["decision_status"] == "none"),
        "waiting_to_send": sum(1 for r in rows if r["is_due"]),
        "refused": sum(1 for r in rows if r["decision_status"] == "refused"),
        "requests": [
            {"invoice_id": r["invoice_id"], "requested_at": r["requested_at"],
             "reason": r["requested_reason"], "decision": r["decision"], "status": r["decision_status"],
             "hub_code": r["hub_code"], "hub_message": r["hub_message"]}
            for r in rows
        ],
    }  # fmt: skip


def _print_cancellations(data: dict[str, object], console: Console) -> None:
    if not data["open"]:
        console.print("[bold]cancellation requests open:[/] none")
        return
    console.print(
        f"[bold]cancellation requests open:[/] {data['open']} ({data['undecided']} undecided,"
        f" {data['waiting_to_send']} decisions waiting to be sent, {data['refused']} refused by the hub:"
        " `rcflow cancellations list`)"
    )
    for r in data["requests"]:  # type: ignore[attr-defined]
        decided = f"{r['decision']} {r['status']}" if r["decision"] else "undecided"
        refused = f" (code {r['hub_code']}: {r['hub_message']})" if r["status"] == "refused" else ""
        line = f"  {r['invoice_id']}  {decided}{refused}  {r['reason'] or ''}"
        console.print(line, markup=False, soft_wrap=True)


@handle_errors
def status(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the snapshot."),
) -> None:
    """Counts by state, last runs, what is owed to the hub, what is quarantined."""
    con = reader(live)
    try:
        data = _status(con)
        data["damaged_or_missing_blobs"] = blob_problem_count(con, BlobStore(settings().store_dir))
    except duckdb.Error as exc:
        _damage(exc, live)
        raise
    finally:
        con.close()
    with reader_may_leave():
        if as_json:
            emit_json(data)
        else:
            _print_status(data, stdout_console())


def _print_status(data: dict[str, object], console: Console) -> None:
    """``status``'s tables and lines, on ``console``."""
    t = Table(title="invoices by hub state", title_justify="left")
    t.add_column("state")
    t.add_column("invoices", justify="right")
    t.add_column("amount €", justify="right")
    for row in data["invoices_by_state"]:  # type: ignore[union-attr]
        t.add_row(row["state"], str(row["count"]), f"{row['amount']:,.2f}")
    console.print(t)
    console.print("[bold]invoices by hub:[/] " + (", ".join(
        f"{h['hub']} {h['count']} ({h['amount']:,.2f} €)" for h in data["invoices_by_hub"]) or "none"))  # type: ignore[union-attr]  # fmt: skip
    t = Table(title="last runs", title_justify="left")
    for column in ("kind", "hub", "status", "started", "finished", "run id"):
        t.add_column(column)
    for r in data["last_runs"]:  # type: ignore[union-attr]
        t.add_row(r["kind"], r["hub"] or "", r["status"], str(r["started_at"])[:19],
                  str(r["finished_at"] or "")[:19], r["run_id"])  # fmt: skip
    console.print(t)
    owed = data["owed_to_hub"]
    console.print(
        "[bold]owed to the hub:[/] " + (", ".join(f"{o['state']} {o['count']}" for o in owed) or "nothing")  # type: ignore[union-attr]
    )
    quarantined = data["quarantined"]
    console.print(
        "[bold]quarantined:[/] "
        + (", ".join(f"{q['reason']} ({q['invoices']})" for q in quarantined) or "none")  # type: ignore[union-attr]
    )
    console.print(f"[bold]stored, not yet acknowledged:[/] {data['stored_not_acknowledged']}")
    held = data["blocked"]
    console.print(f"[bold]blocked from the push by quarantine:[/] {len(held) or 'none'}")  # type: ignore[arg-type]
    for b in held:  # type: ignore[union-attr]
        console.print(
            f"  {b['invoice_id']}  {', '.join(b['states'])}  {b['reason']}", markup=False, soft_wrap=True
        )
    refused = data["refused_updates"]
    console.print(
        f"[bold]refused by the hub (not re-sent until the data changes):[/] {len(refused) or 'none'}"  # type: ignore[arg-type]
    )
    for r in refused:  # type: ignore[union-attr]
        code = f"code {r['code']}: " if r["code"] else ""
        console.print(
            f"  {r['invoice_id']}  {r['state']}  HTTP {r['http_status']}  {code}{r['reason']}",
            markup=False,
            soft_wrap=True,
        )
    _print_cancellations(data["cancellation_requests"], console)  # type: ignore[arg-type]
    signed = data["signatures"]
    console.print(f"[bold]documents sent for signature:[/] {len(signed) or 'none'}")  # type: ignore[arg-type]
    for d in signed:  # type: ignore[union-attr]
        when = str(d["updated_at"])[:19]
        console.print(f"  {d['document']} {d['period']} ({d['lang']})  {d['state']}  {when}", markup=False)
    if data["damaged_or_missing_blobs"]:
        blobs = data["damaged_or_missing_blobs"]
        console.print(f"[bold red]damaged or missing blobs:[/] {blobs} (see `rcflow store verify`)")
