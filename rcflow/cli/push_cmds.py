"""`rcflow push` and `rcflow accounting import`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.table import Table

from rcflow.cli.common import EXIT_OK, EXIT_PROBLEMS, console, emit_json, handle_errors, settings
from rcflow.push.accounting import read_options
from rcflow.push.run import plan_push, run_import, run_push

accounting_app = typer.Typer(help="Accounting-system events (what rcflow pushes to the hub).")


@accounting_app.command("import")
@handle_errors
def import_files(
    files: list[Path] = typer.Argument(..., help="CSV/TSV, XLSX, Parquet or JSON files of events."),
    encoding: str = typer.Option(None, help="Text encoding (default: UTF-8, or Windows-1252 detected)."),
    separator: str = typer.Option(None, help="Field separator (default: sniffed among , ; and tab)."),
    mapping: Path = typer.Option(None, help="YAML file naming an ERP's own columns, states, exclusions."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Import events and exclusions (columns and formats: README, "Accounting files")."""
    results = run_import(settings(), files, read_options(encoding, separator, mapping))
    if as_json:
        emit_json([r.as_dict() for r in results])
        return
    for r in results:
        if r.already_imported:
            console.print(f"{r.file}: already imported ({r.rows} rows), nothing to do")
            continue
        read_as = f" (read as {r.encoding})" if r.encoding and "detected" in r.encoding else ""
        excluded = f", {r.exclusions} exclusions" if r.exclusions else ""
        console.print(f"{r.file}: {r.rows} rows, {r.new_events} new events{excluded}{read_as}")


@handle_errors
def push(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; call nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the plan or summary as JSON."),
) -> None:
    """Push ANNOTATED / RECEIVED / ACCEPTED / RECOGNISED / PAID / REJECTED the hub is owed."""
    config = settings()
    if dry_run:
        plan = plan_push(config)
        rows = plan.rows()
        if as_json:
            emit_json({"owed": plan.owed_count, "plan": rows})
            return
        table = Table(title=f"push plan: {plan.owed_count} updates owed", title_justify="left")
        for column in ("invoice_id", "step", "action", "state", "date", "detail"):
            table.add_column(column)
        for row in rows[:200]:
            table.add_row(*(str(row[c]) for c in ("invoice_id", "step", "action", "state", "date", "detail")))
        console.print(table)
        if len(rows) > 200:
            console.print(f"… {len(rows) - 200} more rows (use --json for all)")
        return
    summary = asyncio.run(run_push(config))
    if as_json:
        emit_json(summary.as_dict())
    else:
        table = Table(title="push", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(justify="right")
        by_state = ", ".join(f"{k} {v}" for k, v in sorted(summary.pushed_by_state.items())) or "-"
        for label, value in (
            ("updates owed", summary.owed),
            ("pushed", f"{summary.pushed} ({by_state})"),
            ("already on the hub (confirmed)", summary.confirmed_already_on_hub),
            ("refused by the hub", len(summary.refused)),
            ("failed, owed next run", len(summary.failed)),
            ("blocked by quality quarantine", len(summary.blocked)),
            ("discrepancies (not pushed)", sum(1 for d in summary.discrepancies if d["blocking"])),
            ("time", f"{summary.seconds:.1f} s"),
        ):
            table.add_row(label, str(value))
        console.print(table)
        for item in summary.refused[:10]:
            console.print(
                f"[yellow]refused[/] {item['invoice_id']} {item['state']}: {item['reason']}", soft_wrap=True
            )
    raise typer.Exit(EXIT_OK if summary.ok else EXIT_PROBLEMS)
