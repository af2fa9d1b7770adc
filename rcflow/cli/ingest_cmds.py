"""`rcflow sync` and `rcflow backfill`: progress, summaries and exit codes around :mod:`rcflow.ingest`.

Imports :mod:`rcflow.ingest` (the use cases) and :mod:`rcflow.cli.common`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from rcflow import event_loop
from rcflow.cli import common
from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    emit_json,
    error_line,
    fail,
    freeze_heap_at_exit,
    handle_errors,
    progress_counter,
    settings,
)
from rcflow.ingest.ftp_archive import ID_FORMS, IdsError, ids_from_args
from rcflow.ingest.rows import arrow_without_pandas
from rcflow.ingest.run import HubRuns, backfill_hubs, sync_hubs
from rcflow.ingest.run import error_line as one_line
from rcflow.ingest.sync import SyncSummary

if TYPE_CHECKING:
    from rich.table import Table

HUB_HELP = "Only this hub: efact or face (default: every configured hub)."


def summary_table(title: str, summary: SyncSummary) -> Table:
    from rich.table import Table  # only for the terminal's tables: ``--json`` never loads rich

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in summary.rows():
        table.add_row(label, str(value))
    return table


def report(title: str, runs: HubRuns, as_json: bool) -> None:
    """Each hub's summary (``--json``: the totals, ``hubs`` and ``failed``), then the exit code:
    a failed hub's own (its error line last, after the other hubs' results), else 0 or 1."""
    if as_json:
        emit_json(runs.as_dict())
    else:
        console = common.console
        for hub, summary in runs.summaries.items():
            console.print(summary_table(f"{title} · {hub}", summary))
            for item in summary.deferred[:10]:
                console.print(f"[yellow]deferred[/] {item['invoice_id']}: {item['reason']}", soft_wrap=True)
            if len(summary.deferred) > 10:
                console.print(f"[yellow]… {len(summary.deferred) - 10} more deferred[/]")
            if summary.stopped_early:
                console.print(f"[yellow]stopped early:[/] {summary.stopped_early}", soft_wrap=True)
    failed = list(runs.errors.items())
    for hub, exc in failed[:-1]:
        error_line(f"{hub}: {one_line(exc)}")
    if failed:
        raise failed[-1][1]  # its one line and exit code (3: the hub refused us or is unreachable)
    raise typer.Exit(EXIT_OK if runs.ok else EXIT_PROBLEMS)


@handle_errors
def sync(
    hub: str = typer.Option(None, "--hub", help=HUB_HELP),
    nif: str = typer.Option(None, help="Only this entity's invoices (hub NIF, e.g. ESP0800000B)."),
    office: str = typer.Option(None, help="Only this accounting office (DIR3 code)."),
    refresh: bool = typer.Option(True, help="Re-read the history of non-final invoices."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Download pending invoices and attachments into the warehouse, then acknowledge them."""
    config = settings()
    arrow_without_pandas()
    freeze_heap_at_exit()
    with progress_counter(not as_json, "sync") as progress:
        runs = event_loop.run(sync_hubs(config, hub=hub, nif=nif, office=office, refresh=refresh,
                                     progress=progress))  # fmt: skip
    report("sync", runs, as_json)


@handle_errors
def backfill(
    ids: list[str] = typer.Option(
        ..., "--ids", help="Hub ids, files of ids (one per line) or old FTP mailbox folders."
    ),
    hub: str = typer.Option(None, "--hub", help=HUB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Fetch invoices handled before rcflow existed (by hub id or from an FTP archive)."""
    config = settings()
    try:
        hub_ids = ids_from_args(ids)
    except IdsError as exc:  # checked before any call to a hub
        fail(str(exc), EXIT_USAGE)
    if not hub_ids:
        fail("no hub ids found in the arguments (" + ID_FORMS + ")", EXIT_USAGE)
    arrow_without_pandas()
    freeze_heap_at_exit()
    with progress_counter(not as_json, "backfill") as progress:
        runs = event_loop.run(backfill_hubs(config, hub_ids, hub=hub, progress=progress))
    report("backfill", runs, as_json)
