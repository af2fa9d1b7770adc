"""`rcflow store verify`: damaged or missing blobs, and the invoices they belong to."""

from __future__ import annotations

from pathlib import Path

import typer

from rcflow.cli.common import EXIT_OK, EXIT_PROBLEMS, console, emit_json, fail, handle_errors, settings
from rcflow.store import BlobStore
from rcflow.store_audit import blob_problems
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
) -> None:
    """Re-hash every stored blob the warehouse refers to; exit 1 if any is damaged or missing."""
    config = settings()
    if not Path(config.warehouse).exists():
        fail(f"no warehouse at {config.warehouse}: run `rcflow sync` first", EXIT_PROBLEMS)
    con = open_reader(config.warehouse, live=live)
    try:
        problems = blob_problems(con, BlobStore(config.store_dir), deep=not quick)
    finally:
        con.close()
    invoices = sorted({p.invoice_id for p in problems})
    if as_json:
        emit_json({"ok": not problems, "invoices": invoices, "problems": [p.as_dict() for p in problems]})
    elif not problems:
        console.print("blob store: every blob the warehouse refers to is present and intact")
    else:
        for problem in problems[:SHOWN]:
            console.print(problem.line(), style="red", soft_wrap=True, markup=False)
        if len(problems) > SHOWN:
            console.print(f"… and {len(problems) - SHOWN} more")
        console.print(
            f"{len(problems)} damaged or missing blobs in {len(invoices)} invoices; fetch them again "
            "with `rcflow backfill --ids <invoice ids>` (a verified copy replaces a damaged one)",
            soft_wrap=True,
        )
    raise typer.Exit(EXIT_PROBLEMS if problems else EXIT_OK)
