"""`rcflow store verify`: damaged or missing blobs, and the invoices they belong to.

Imports the blob store and its audit, :mod:`rcflow.warehouse` (read) and the hub client (``--repair``).
"""

from __future__ import annotations

import typer

from rcflow import event_loop
from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    console,
    emit_json,
    existing_warehouse,
    handle_errors,
    settings,
)
from rcflow.connectors.efact import HubClient
from rcflow.store import BlobStore
from rcflow.store_audit import BlobProblem, blob_problems, repair
from rcflow.warehouse import open_reader

app = typer.Typer(
    help="The blob store beside the warehouse (Facturae files, attachments).", no_args_is_help=True
)

SHOWN = 50


@app.command()
@handle_errors
def verify(
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
    live: bool = typer.Option(False, help="Read the live warehouse instead of the snapshot."),
    quick: bool = typer.Option(False, help="Existence and size only; no re-hashing."),
    fix: bool = typer.Option(
        False, "--repair", help="Download damaged or missing blobs again (kept only if identical)."
    ),
) -> None:
    """Re-hash every stored blob the warehouse refers to; exit 1 if any is damaged or missing."""
    config = settings()
    warehouse = existing_warehouse()  # before the store: a missing warehouse creates no folder
    store = BlobStore(config.store_dir)
    con = open_reader(warehouse, live=live)
    try:
        problems = blob_problems(con, store, deep=not quick)
    finally:
        con.close()
    outcomes = event_loop.run(_repair(config, store, problems)) if fix and problems else {}
    problems = [p for p in problems if outcomes.get(p.sha256) != "repaired"]
    invoices = sorted({p.invoice_id for p in problems if p.invoice_id is not None})
    repaired = sum(1 for outcome in outcomes.values() if outcome == "repaired")
    if as_json:
        emit_json(
            {
                "ok": not problems,
                "repaired": repaired,
                "invoices": invoices,
                "problems": [{**p.as_dict(), "repair": outcomes.get(p.sha256)} for p in problems],
            }
        )
    elif not problems:
        console.print(
            "blob store: every blob the warehouse refers to is present and intact"
            + (f" ({repaired} repaired)" if repaired else "")
        )
    else:
        for problem in problems[:SHOWN]:
            outcome = f" — {outcomes[problem.sha256]}" if problem.sha256 in outcomes else ""
            console.print(problem.line() + outcome, style="red", soft_wrap=True, markup=False)
        if len(problems) > SHOWN:
            console.print(f"… and {len(problems) - SHOWN} more")
        console.print(
            f"{_count(len(problems), 'damaged or missing blob')} ({_count(len(invoices), 'invoice')});"
            " download the hub's again with `rcflow store verify --repair`"
            " (kept only if identical to what was stored)",
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_PROBLEMS if problems else EXIT_OK)


async def _repair(config: object, store: BlobStore, problems: list[BlobProblem]) -> dict[str, str]:
    async with HubClient.from_settings(config) as hub:
        return await repair(hub, store, problems)


def _count(n: int, noun: str) -> str:
    """``1 invoice``, ``2 invoices``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
