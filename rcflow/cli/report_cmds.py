"""``rcflow report``: build the compliance reports for one month or quarter.

Owns the command's options, its summary table and how report errors map to exit codes. Imports
:mod:`rcflow.reports` (the library doing the work) and :mod:`rcflow.cli.common`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from rcflow.cli.common import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    emit_json,
    fail,
    handle_errors,
    settings,
)
from rcflow.cli.query_cmds import stdout_console
from rcflow.reports.administrations import AdministrationsFileError
from rcflow.reports.build import ReportResult, build_reports
from rcflow.reports.dbt_runner import ReportBuildError
from rcflow.reports.i18n import CONSOLE, LanguageError, check_language
from rcflow.reports.pdf import PdfError
from rcflow.reports.periods import parse_period
from rcflow.reports.rates import RatesFileError
from rcflow.reports.readings import ReadingError, Readings
from rcflow.reports.reference import reference_files
from rcflow.tabular import CsvDialect, DialectError, csv_dialect

# Wrong options or reference files: nothing was built (exit 2; a wrong period is every command's).
_USAGE_ERRORS = (ReadingError, RatesFileError, AdministrationsFileError, LanguageError)


def _dialect(name: str | None) -> CsvDialect:
    """The report CSVs' dialect: the option, else RCFLOW_CSV_DIALECT, else plain; a bad name
    exits 2 before anything is built."""
    try:
        return csv_dialect(name)
    except DialectError as exc:
        fail(str(exc), EXIT_USAGE)




def _print_summary(result: ReportResult) -> None:
    h = result.headline
    count, euros, number = CONSOLE.count, CONSOLE.euros, CONSOLE.number
    table = Table(title=f"rcflow report {result.period.label}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Figures", result.status_line)
    table.add_row("Method", result.method_label)
    table.add_row("Global PMP (days)", number(h["pmp_global"]))
    table.add_row("Paid in the period", f"{count(h['paid_count'])} · {euros(h['paid_amount'])}")
    table.add_row("Pending at the end", f"{count(h['pending_count'])} · {euros(h['pending_amount'])}")
    table.add_row("Pending past the legal date", count(h["pending_late_count"]))
    table.add_row("Art. 10 list (>3 months unrecognised)", count(h["art10_count"]))
    table.add_row("Updates owed to the hub", count(h["updates_owed_to_hub"]))
    table.add_row("With open quality findings (counted, flagged)", count(h["quarantined_count"]))
    table.add_row("Out of the PMP scope (RD 635/2014 art. 3)", count(h["scope_excluded_count"]))
    if h["late_interest_unrated_count"]:
        table.add_row("Interest: days at a rate not yet published",
                      f"{count(h['late_interest_unrated_days'])} days · "
                      f"{euros(h['late_interest_unrated_principal'])}")  # fmt: skip
    console = stdout_console()  # off a terminal: the rows whole, never cut at 80 columns
    console.print(table)
    console.print(f"Written to {result.paths['report.html'].parent}", soft_wrap=True)


@handle_errors
def report(
    period: str = typer.Option(
        ..., "--period", "-p", help="2025-10, 2025-Q4, last-month, current-month, last-quarter…"
    ),
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
    quarantined_invoices: str = typer.Option(
        "include_and_flag", help="include_and_flag | exclude (opt-in: not the legal figures)"
    ),
    interest_due_date: str = typer.Option(
        "earlier_of_conformity_30_registry_60",
        help="earlier_of_conformity_30_registry_60 | conformity_plus_30 | registry_plus_30",
    ),
    public_body_rule: str = typer.Option("nif_prefix_pqs", help="nif_prefix_pqs | declared_only"),
    documents: bool = typer.Option(
        False, "--documents", help="Also the legal documents as PDFs (needs Chromium), in --lang"
    ),
    lang: str = typer.Option(
        None, "--lang", help="ca | es | en: the pages, CSV headers and documents (default RCFLOW_LANGUAGE)"
    ),
    xlsx: bool = typer.Option(False, "--xlsx", help="Also report.xlsx: every table as a typed sheet"),
    dialect: str = typer.Option(
        None, "--csv-dialect", help="The CSVs: plain | excel-es (default RCFLOW_CSV_DIALECT, else plain)"
    ),
) -> None:
    """Build every report for PERIOD (2025-10, 2025-Q4, last-month, current-quarter…) into OUT."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file: give a folder (made if missing)", EXIT_USAGE)
    try:
        readings = Readings(
            pmp_method=pmp_method,  # type: ignore[arg-type]
            pending_without_acceptance=pending_without_acceptance,  # type: ignore[arg-type]
            credit_notes=credit_notes,  # type: ignore[arg-type]
            quarantined_invoices=quarantined_invoices,  # type: ignore[arg-type]
            interest_due_date=interest_due_date,  # type: ignore[arg-type]
            public_body_rule=public_body_rule,  # type: ignore[arg-type]
        )
        config = settings()
        language = check_language(lang or config.language)
        result = build_reports(
            warehouse or config.warehouse, parse_period(period), out, readings=readings,
            lang=language, documents_lang=language if documents else None,
            xlsx=xlsx, csv_dialect=_dialect(dialect), **reference_files(config),
        )  # fmt: skip
    except _USAGE_ERRORS as exc:
        fail(str(exc), EXIT_USAGE)
    except ReportBuildError as exc:  # dbt failed: a full or unwritable disk first, if it names one
        from rcflow.warehouse.failures import storage_failure_in_text

        failure = storage_failure_in_text(str(exc))
        if failure is not None:
            raise failure from exc  # its line and exit code, as for every command
        fail(str(exc), EXIT_PROBLEMS)
    except PdfError as exc:  # the CSVs and pages are written; the PDFs are not
        fail(str(exc), EXIT_PROBLEMS)
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_summary(result)
