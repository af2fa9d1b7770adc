"""`rcflow check`: run the data-quality suites; exit 1 when a blocking expectation failed.

Owns the check's table and exit code; the suites and their runner are :mod:`rcflow.quality`'s.
"""

from __future__ import annotations

import typer
from rich.table import Table

from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    console,
    emit_json,
    fail,
    handle_errors,
    hush_stderr_at_exit,
    settings,
)
from rcflow.quality.report import CheckReport, ExpectationOutcome

SAMPLE_SHOWN = 3


def _verdict(o: ExpectationOutcome) -> str:
    if o.error:
        return "[bold red]error[/]"
    if o.flagged:
        return "[cyan]flag[/]"
    if o.success:
        return "[green]pass[/]"
    return "[bold red]BLOCK[/]" if o.blocking else "[yellow]quarantine[/]"


def _table(report: CheckReport) -> Table:
    table = Table(title=f"quality check {report.run_id}", title_justify="left")
    for column in ("suite", "expectation", "result", "unexpected", "sample invoices"):
        table.add_column(column, overflow="fold")
    for o in report.outcomes:
        sample = ", ".join(o.sample_invoice_ids[:SAMPLE_SHOWN])
        if len(o.sample_invoice_ids) > SAMPLE_SHOWN:
            sample += ", …"
        unexpected = o.error or ("" if o.unexpected_count is None else str(o.unexpected_count))
        table.add_row(o.suite_label, o.expectation, _verdict(o), unexpected, sample)
    return table


@handle_errors
def check(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Validate invoices, state histories and accounting events; quarantine what fails."""
    from rcflow.quality.runner import run_checks

    hush_stderr_at_exit()
    config = settings()
    report = run_checks(config.warehouse, lock_timeout=config.lock_timeout)
    if as_json:
        emit_json(report.as_dict())
    else:
        console.print(_table(report))
        held = ", ".join(f"{r} ({n})" for r, n in sorted(report.quarantined.items())) or "none"
        flags = ", ".join(f"{r} ({n})" for r, n in sorted(report.flagged.items())) or "none"
        console.print(f"[bold]quarantined:[/] {held}")
        console.print(f"[bold]flagged:[/] {flags}")
        console.print(
            f"[bold]new quarantines:[/] {report.newly_quarantined}"
            f"   [bold]resolved:[/] {report.resolved}   [bold]Data Docs:[/] {report.data_docs}"
        )
    if report.ok:
        if not as_json:
            console.print(f"[green]ok:[/] {report.reason()}", soft_wrap=True)
        raise typer.Exit(EXIT_OK)
    fail(report.reason(), EXIT_PROBLEMS)
