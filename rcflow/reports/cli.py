"""``rcflow report``: build the compliance reports for one month or quarter."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rcflow.cli.common import EXIT_USAGE, fail, handle_errors
from rcflow.config import ConfigError, load_settings
from rcflow.reports.build import ReportResult, build_reports
from rcflow.reports.dbt_runner import ReportBuildError
from rcflow.reports.formatting import count, euros, number
from rcflow.reports.periods import PeriodError
from rcflow.reports.readings import ReadingError, Readings

app = typer.Typer(help="Compliance reports (PMP, morosity, art. 10, obligations, interest).")


def _print_summary(result: ReportResult, console: Console) -> None:
    h = result.headline
    table = Table(title=f"rcflow report {result.period.label}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Method", result.method_label)
    table.add_row("Global PMP (days)", number(h["pmp_global"]))
    table.add_row("Paid in the period", f"{count(h['paid_count'])} · {euros(h['paid_amount'])}")
    table.add_row("Pending at the end", f"{count(h['pending_count'])} · {euros(h['pending_amount'])}")
    table.add_row("Pending past the legal date", count(h["pending_late_count"]))
    table.add_row("Art. 10 list (>3 months unrecognised)", count(h["art10_count"]))
    table.add_row("Updates owed to the hub", count(h["updates_owed_to_hub"]))
    table.add_row("Quality-quarantined (excluded)", count(h["quarantined_count"]))
    console.print(table)
    console.print(f"Written to {result.paths['report.html'].parent}")


@app.command("report")
@handle_errors
def report(
    period: str = typer.Option(..., "--period", "-p", help="YYYY-MM (month) or YYYY-Qn (quarter)"),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the CSV and HTML outputs"),
    warehouse: Path = typer.Option(
        None, "--warehouse", help="Warehouse file (its snapshot is read); default RCFLOW_WAREHOUSE"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON"),
    pmp_method: str = typer.Option("auto", help="auto | rd1040_2017 | rd635_2014_original"),
    pending_without_acceptance: str = typer.Option(
        "include_from_registry", help="include_from_registry | exclude_until_accepted"
    ),
    credit_notes: str = typer.Option("exclude_and_flag", help="exclude_and_flag | include"),
) -> None:
    """Build every report for PERIOD from the warehouse snapshot into OUT."""
    try:
        readings = Readings(
            pmp_method=pmp_method,  # type: ignore[arg-type]
            pending_without_acceptance=pending_without_acceptance,  # type: ignore[arg-type]
            credit_notes=credit_notes,  # type: ignore[arg-type]
        )
        result = build_reports(
            warehouse or load_settings().warehouse, period, out, readings=readings
        )
    except (ConfigError, PeriodError, ReadingError, ReportBuildError, FileNotFoundError) as exc:
        fail(str(exc), EXIT_USAGE)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_summary(result, Console())
