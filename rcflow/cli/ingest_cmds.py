"""`rcflow sync` and `rcflow backfill`: progress, summaries and exit codes around :mod:`rcflow.ingest`.

Imports :mod:`rcflow.ingest` (the use cases) and :mod:`rcflow.cli.common`.
"""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    console,
    emit_json,
    handle_errors,
    progress_counter,
    settings,
)
from rcflow.ingest.ftp_archive import ids_from_args
from rcflow.ingest.rows import arrow_without_pandas
from rcflow.ingest.run import run_backfill, run_sync
from rcflow.ingest.sync import SyncSummary


def summary_table(title: str, summary: SyncSummary) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in summary.rows():
        table.add_row(label, str(value))
    return table


def report(title: str, summary: SyncSummary, as_json: bool) -> None:
    if as_json:
        emit_json(summary.as_dict())
    else:
        console.print(summary_table(title, summary))
        for item in summary.deferred[:10]:
            console.print(f"[yellow]deferred[/] {item['invoice_id']}: {item['reason']}", soft_wrap=True)
        if len(summary.deferred) > 10:
            console.print(f"[yellow]… {len(summary.deferred) - 10} more deferred[/]")
        if summary.stopped_early:
            console.print(f"[yellow]stopped early:[/] {summary.stopped_early}", soft_wrap=True)
    raise typer.Exit(EXIT_OK if summary.ok else EXIT_PROBLEMS)


@handle_errors
def sync(
    nif: str = typer.Option(None, help="Only this entity's invoices (hub NIF, e.g. ESP0800000B)."),
    office: str = typer.Option(None, help="Only this accounting office (DIR3 code)."),
    refresh: bool = typer.Option(True, help="Re-read the history of non-final invoices."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Download pending invoices and attachments into the warehouse, then acknowledge them."""
    config = settings()
    arrow_without_pandas()
    with progress_counter(not as_json, "sync") as progress:
        summary = asyncio.run(run_sync(config, nif=nif, office=office, refresh=refresh, progress=progress))
    report("sync", summary, as_json)


@handle_errors
def backfill(
    ids: list[str] = typer.Option(
        ..., "--ids", help="Hub ids, files of ids (one per line) or old FTP mailbox folders."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Fetch invoices handled before rcflow existed (by hub id or from an FTP archive)."""
    config = settings()
    hub_ids = ids_from_args(ids)
    if not hub_ids:
        console.print("no hub ids found in the arguments")
        raise typer.Exit(EXIT_PROBLEMS)
    arrow_without_pandas()
    with progress_counter(not as_json, "backfill") as progress:
        summary = asyncio.run(run_backfill(config, hub_ids, progress=progress))
    report("backfill", summary, as_json)
