"""`rcflow sign`: send a period's legal document for signature, follow it, collect it signed.

Imports :mod:`rcflow.signing` (the use cases) and its errors, to map them to exit codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table

from rcflow.cli.common import (
    EXIT_HUB,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    console,
    emit_json,
    fail,
    handle_errors,
    settings,
)
from rcflow.cli.query_cmds import reader_may_leave, stdout_console
from rcflow.reports.i18n import LanguageError
from rcflow.signing.efirma.errors import EfirmaError, Kind
from rcflow.signing.run import collect_signatures, sign_period, signature_status, signed_pdf
from rcflow.signing.signatories import SignatoriesError
from rcflow.signing.signer import SigningInputError

sign_app = typer.Typer(help="Legal documents sent for signature (efirma GO).", invoke_without_command=True)


@sign_app.callback()
@handle_errors
def sign(
    ctx: typer.Context,
    period: str = typer.Option(None, "--period", "-p", help="2025-11, 2025-Q4, last-month, last-quarter…"),
    document: str = typer.Option("pmp", "--document", "-d", help="pmp, morosity, art10 or interest"),
    lang: str = typer.Option(None, "--lang", help="ca, es or en (default RCFLOW_LANGUAGE)"),
    new_version: bool = typer.Option(
        False, "--new-version", help="Send a freshly built PDF even if one is being signed or signed."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Build the period's document as a PDF and send it for signature (once per period and language)."""
    if ctx.invoked_subcommand is not None:
        return
    if period is None:
        raise typer.BadParameter("give --period (or a command: status, collect)")
    with _signing_errors():
        sent = sign_period(settings(), period, document, lang, new_version=new_version)
    if as_json:
        emit_json(sent.as_dict())
        return
    console.print(f"{sent.document} {sent.period}: {sent.state} (operation {sent.operation_id}) · {sent.pdf}")


@sign_app.command("status")
@handle_errors
def status(as_json: bool = typer.Option(False, "--json", help="Print the requests as JSON.")) -> None:
    """Every document sent for signature and where it stands (no call to the service)."""
    config = settings()
    records = signature_status(config)
    rows = [{"document": r.document, "period": r.period, "lang": r.lang, "state": r.state,
             "operation_id": r.operation_id, "updated_at": r.updated_at.isoformat(),
             "signed_pdf": str(signed_pdf(config, r) or ""), "reference": r.reference}
            for r in records]  # fmt: skip
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"documents sent for signature: {len(rows)}", title_justify="left")
    for column in ("document", "period", "lang", "state", "operation_id", "updated_at", "signed_pdf"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("document", "period", "lang", "state", "operation_id",
                                                    "updated_at", "signed_pdf")))  # fmt: skip
    with reader_may_leave():  # off a terminal: signed PDFs' paths whole, never cut at 80 columns
        stdout_console().print(table)


@sign_app.command("collect")
@handle_errors
def collect(as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON.")) -> None:
    """Poll the service; store signed PDFs. Exit 1 if a document was rejected or cancelled."""
    with _signing_errors():
        outcome = collect_signatures(settings())
    if as_json:
        emit_json(vars(outcome))
    else:
        console.print(f"signed {len(outcome.signed)} · waiting {len(outcome.waiting)} · "
                      f"rejected {len(outcome.rejected)} · cancelled {len(outcome.cancelled)}")  # fmt: skip
        for reference in outcome.rejected + outcome.cancelled:
            console.print(f"  needs attention: {reference}")
    if outcome.rejected or outcome.cancelled:
        raise typer.Exit(EXIT_PROBLEMS)


@contextmanager
def _signing_errors() -> Iterator[None]:
    """efirma GO and signatories errors as the one-line errors of every command."""
    try:
        yield
    except EfirmaError as exc:
        fail(str(exc), EXIT_USAGE if exc.kind is Kind.CREDENTIALS else EXIT_HUB)
    except (SignatoriesError, SigningInputError, LanguageError) as exc:
        fail(str(exc), EXIT_USAGE)
