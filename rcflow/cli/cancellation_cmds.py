"""`rcflow cancellations list | accept | reject | send`: suppliers' requests to cancel invoices.

A hub that has them (FACe) lists the requests; an operator accepts or rejects each with a reason
(recorded in ``ops.cancellation_decisions``; an accounting file can decide too); ``send`` answers
the hub, each decision once. Imports :mod:`rcflow.warehouse` (requests and decisions live there),
:mod:`rcflow.push.cancellations` (the send) and the connector registry.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb
import typer

from rcflow import clock, event_loop
from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    console,
    emit_json,
    existing_warehouse,
    fail,
    handle_errors,
    settings,
)
from rcflow.config import Settings
from rcflow.warehouse import Warehouse, open_reader
from rcflow.warehouse.cancellations import (
    DecisionRefused,
    credit_assignments,
    decide,
    open_requests,
    resolve_invoice_id,
)

app = typer.Typer(
    help="Suppliers' cancellation requests (FACe): fetch, list, accept or reject, send the answers."
)


def hub_connector(config: Settings) -> Any:
    """The connector of the hub with cancellation requests (FACe when it is configured, else the
    one configured hub), downloading nothing; the office of a request it did not list is found
    by listing them. A test may replace this function."""
    from rcflow.connectors.registry import configured_hubs, connect

    return connect(config, None, "face" if "face" in configured_hubs(config) else None)


def _row_json(r: dict[str, object]) -> dict[str, object]:
    amount = r["amount_cents"]
    return {
        "invoice_id": r["invoice_id"],
        "registry_number": r["registry_number"],
        "hub": r["source_hub"],
        "requested_at": r["requested_at"],
        "reason": r["requested_reason"],
        "supplier": r["supplier_name"],
        "supplier_nif": r["supplier_nif"],
        "amount": None if amount is None else int(amount) / 100,  # type: ignore[call-overload]
        "invoice_state": r["invoice_hub_state"],
        "decision": None
        if r["decision"] is None
        else {
            "decision": r["decision"],
            "reason": r["comment"],
            "by": r["decided_by"],
            "at": r["decided_at"],
            "via": r["via"],
            "status": r["decision_status"],
            "hub_code": r["hub_code"],
            "hub_message": r["hub_message"],
        },
    }


T = TypeVar("T")


def _read(query: Callable[[duckdb.DuckDBPyConnection], list[T]], what: str, *, live: bool) -> list[T]:
    """``query`` over the warehouse's snapshot (or the live file), or one line saying why not."""
    con = open_reader(existing_warehouse(), live=live)
    try:
        return query(con)
    except duckdb.CatalogException:
        fail(f"this snapshot predates {what}: run `rcflow sync` (or any writer) once", EXIT_USAGE)
    finally:
        con.close()


@app.command("list")
@handle_errors
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the snapshot."),
) -> None:
    """Requests still to be answered on the hub, with the decision taken for each (if any)."""
    rows = _read(open_requests, "cancellation requests", live=live)
    if as_json:
        emit_json([_row_json(r) for r in rows])
        raise typer.Exit(EXIT_OK)
    due = sum(1 for r in rows if r["is_due"])
    console.print(f"[bold]{len(rows)} cancellation requests open[/]; {due} decisions waiting to be sent")
    for r in rows:
        when = clock.format_local(r["requested_at"]) if r["requested_at"] else "?"  # type: ignore[arg-type]
        amount = "" if r["amount_cents"] is None else f"  {int(r['amount_cents']) / 100:,.2f} €"  # type: ignore[call-overload]
        decided = "undecided"
        if r["decision"]:
            decided = f"{r['decision']} ({r['decision_status']}) by {r['decided_by']}: {r['comment']}"
            if r["decision_status"] == "refused":
                decided += f" · refused by the hub ({r['hub_code']}): {r['hub_message']} — decide again"
        console.print(
            f"{r['invoice_id']}  {r['supplier_name'] or ''}{amount}  asked {when}:"
            f" {r['requested_reason'] or ''}\n    {decided}",
            markup=False,
            soft_wrap=True,
        )


@app.command("credit-assignments")
@handle_errors
def credit_assignments_(
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the snapshot."),
) -> None:
    """Credit assignments (cesiones de crédito) the hub reported for stored invoices."""
    rows = _read(credit_assignments, "credit assignments", live=live)
    if as_json:
        emit_json(rows)
        raise typer.Exit(EXIT_OK)
    console.print(f"[bold]{len(rows)} credit assignments[/]")
    for r in rows:
        console.print(
            f"{r['invoice_id']}  {r['supplier_name'] or ''}  state {r['state_code'] or '?'}:"
            f" {r['description'] or ''}",
            markup=False,
            soft_wrap=True,
        )


async def _fetch(config: Settings) -> Any:
    from rcflow.connectors.base import HandlesCancellations, ReportsCreditAssignments
    from rcflow.ingest.cancellations import drain_cancellations

    connector = hub_connector(config)
    try:
        if not isinstance(connector, HandlesCancellations | ReportsCreditAssignments):
            source = getattr(connector, "source", "configured")
            fail(
                f"the {source} hub has no cancellation requests nor credit assignments: nothing to fetch",
                EXIT_USAGE,
            )
        with Warehouse(config.warehouse, lock_timeout=config.lock_timeout) as wh:
            return await drain_cancellations(connector, wh)
    finally:
        await connector.aclose()


@app.command()
@handle_errors
def fetch(as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON.")) -> None:
    """Download the hub's open cancellation requests and the credit assignments of open invoices."""
    summary = event_loop.run(_fetch(settings()))
    if as_json:
        emit_json(summary.as_dict())
    else:
        console.print(
            f"{len(summary.open_requests)} cancellation requests open on the hub;"
            f" credit assignments asked for {summary.credit_assignments_asked} invoices,"
            f" {summary.credit_assignments} answered"
        )
        for f in summary.failures:
            console.print(f"  not read {f['invoice_id']}: {f['reason']}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_PROBLEMS if summary.failures else EXIT_OK)


def _operator(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        fail("cannot tell who you are from the system: give --by NAME", EXIT_USAGE)
        raise  # unreachable


def _decide(decision: str, given: str, reason: str, by: str | None, as_json: bool) -> None:
    config = settings()
    who = _operator(by)
    with Warehouse(config.warehouse, lock_timeout=config.lock_timeout) as wh:
        try:
            with wh.reading() as con:
                invoice_id = resolve_invoice_id(con, given)
            seq = decide(wh, invoice_id, decision, reason, decided_by=who)  # type: ignore[arg-type]
        except DecisionRefused as exc:
            fail(str(exc), EXIT_USAGE)
            raise  # unreachable
    if as_json:
        emit_json({"invoice_id": invoice_id, "decision": decision, "decision_seq": seq, "by": who})
        return
    console.print(
        f"{decision}ed the cancellation request of {invoice_id} (by {who}): `rcflow cancellations send`"
        " answers the hub",
        markup=False,
        soft_wrap=True,
    )


@app.command()
@handle_errors
def accept(
    invoice_id: str = typer.Argument(..., help="The invoice id (a FACe registry number will do)."),
    reason: str = typer.Option(..., "--reason", help="Why (sent to the hub as the comment; recorded)."),
    by: str = typer.Option(None, "--by", help="Who decides (default: the OS user)."),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """Accept a cancellation request: once sent, the hub cancels the invoice (FACe 3100)."""
    _decide("accept", invoice_id, reason, by, as_json)


@app.command()
@handle_errors
def reject(
    invoice_id: str = typer.Argument(..., help="The invoice id (a FACe registry number will do)."),
    reason: str = typer.Option(..., "--reason", help="Why (sent to the hub as the comment; recorded)."),
    by: str = typer.Option(None, "--by", help="Who decides (default: the OS user)."),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """Reject a cancellation request: the invoice stays as it is."""
    _decide("reject", invoice_id, reason, by, as_json)


async def _send(config: Settings) -> Any:
    from rcflow.push.cancellations import run_send

    connector = hub_connector(config)
    try:
        with Warehouse(config.warehouse, lock_timeout=config.lock_timeout) as wh:
            return await run_send(connector, wh)
    finally:
        await connector.aclose()


@app.command()
@handle_errors
def send(as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON.")) -> None:
    """Answer the hub: every decision not yet sent, once (a lost answer is re-read, never re-sent)."""
    from rcflow.push.cancellations import NoCancellations

    config = settings()
    try:
        summary = event_loop.run(_send(config))
    except NoCancellations as exc:
        fail(f"{exc}: nothing to send", EXIT_USAGE)
    if as_json:
        emit_json(summary.as_dict())
    else:
        console.print(
            f"{summary.due} decisions due: {len(summary.sent)} sent,"
            f" {len(summary.confirmed_already_on_hub)} found already applied on the hub,"
            f" {len(summary.refused)} refused, {len(summary.uncertain)} without an answer"
        )
        for r in summary.refused:
            console.print(
                f"  refused {r['invoice_id']} {r['decision']} code {r['code']}: {r['reason']}",
                markup=False,
                soft_wrap=True,
            )
        for r in summary.uncertain:
            console.print(
                f"  no answer {r['invoice_id']} {r['decision']}: {r['reason']}"
                " (the next send asks the hub first)",
                markup=False,
                soft_wrap=True,
            )
    raise typer.Exit(EXIT_OK if summary.ok else EXIT_PROBLEMS)
