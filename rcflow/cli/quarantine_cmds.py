"""`rcflow quarantine list | release | reopen`: an operator's review of what is held back.

Imports :mod:`rcflow.warehouse` (findings and reviews live there) and :mod:`rcflow.clock`.
"""

from __future__ import annotations

import getpass

import duckdb
import typer

from rcflow import clock
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
from rcflow.warehouse import Warehouse, open_reader
from rcflow.warehouse.quarantine import Finding, ReviewRefused, held_back, open_findings, record_review

_PAST = {"release": "released", "reopen": "reopened"}

app = typer.Typer(help="Review quarantined invoices: list them, release them to the push, reopen them.")


def _finding_dict(f: Finding, holds_back: list[str]) -> dict[str, object]:
    return {
        "invoice_id": f.invoice_id,
        "stage": f.stage,
        "reason": f.reason,
        "detail": f.detail,
        "since": f.detected_at,
        "status": f.status,
        "holds_back": holds_back if f.is_holding else [],
        "review": None
        if f.review_action is None
        else {"action": f.review_action, "by": f.reviewed_by, "at": f.reviewed_at, "why": f.review_note},
    }


@app.command("list")
@handle_errors
def list_(
    show_all: bool = typer.Option(False, "--all", help="Also the released and passed findings."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the snapshot."),
) -> None:
    """Open quarantine findings: invoice, stage, reason, since, what each holds back."""
    con = open_reader(existing_warehouse(), live=live)
    try:
        findings = open_findings(con)
        owed = held_back(con)
    except duckdb.CatalogException:
        fail("this snapshot predates quarantine review: run `rcflow check` (or any writer) once", EXIT_USAGE)
    finally:
        con.close()
    shown = [f for f in findings if show_all or f.is_holding]
    if as_json:
        emit_json([_finding_dict(f, owed.get(f.invoice_id, [])) for f in shown])
        raise typer.Exit(EXIT_OK)
    held = sum(1 for f in findings if f.is_holding)
    console.print(
        f"[bold]{len({f.invoice_id for f in findings if f.is_holding})} invoices held[/] ({held} findings);"
        f" {len(findings) - held} findings released or passed" + ("" if show_all else " (--all shows them)")
    )
    for f in shown:
        holds = ", ".join(owed.get(f.invoice_id, [])) if f.is_holding else ""
        review = ""
        if f.review_action and f.reviewed_at:
            when = clock.format_local(f.reviewed_at)
            review = f" · {_PAST[f.review_action]} by {f.reviewed_by} {when}: {f.review_note}"
        console.print(
            f"{f.invoice_id}  {f.label}  since {clock.format_local(f.detected_at)}  [{f.status}]"
            f"  holds back: {holds or 'nothing owed'}{review}\n    {f.detail or ''}",
            soft_wrap=True,
            markup=False,
        )


def _operator(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        fail("cannot tell who you are from the system: give --by NAME", EXIT_USAGE)
        raise  # unreachable


def _review(action: str, invoice_ids: list[str], why: str, by: str | None, as_json: bool) -> None:
    config = settings()
    who = _operator(by)
    with Warehouse(config.warehouse, lock_timeout=config.lock_timeout) as wh:
        try:
            changed = record_review(wh, invoice_ids, action=action, by=who, note=why, at=clock.now())
        except ReviewRefused as exc:
            fail(str(exc), EXIT_USAGE)
            raise  # unreachable
    if as_json:
        emit_json([{"invoice_id": f.invoice_id, "stage": f.stage, "reason": f.reason} for f in changed])
        return
    verb = "released" if action == "release" else "reopened"
    if not changed:
        console.print(f"nothing to do: every finding of {', '.join(invoice_ids)} is already {verb}")
        return
    for f in changed:
        console.print(f"{verb} {f.invoice_id}  {f.label}", markup=False, soft_wrap=True)
    after = "they are pushed on the next run" if action == "release" else "they are held again"
    console.print(f"{len(changed)} findings {verb} by {who}: {after}")


@app.command()
@handle_errors
def release(
    invoice_ids: list[str] = typer.Argument(..., help="Hub invoice ids."),
    why: str = typer.Option(..., "--reason", help="Why the invoice may be pushed (recorded)."),
    by: str = typer.Option(None, "--by", help="Who decides (default: the OS user)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was released as JSON."),
) -> None:
    """Let the next push send these invoices' updates despite their findings as they stand now."""
    _review("release", invoice_ids, why, by, as_json)


@app.command()
@handle_errors
def reopen(
    invoice_ids: list[str] = typer.Argument(..., help="Hub invoice ids."),
    why: str = typer.Option(..., "--reason", help="Why the release is withdrawn (recorded)."),
    by: str = typer.Option(None, "--by", help="Who decides (default: the OS user)."),
    as_json: bool = typer.Option(False, "--json", help="Print what was reopened as JSON."),
) -> None:
    """Withdraw a release: the invoices are held back again."""
    _review("reopen", invoice_ids, why, by, as_json)
