"""`rcflow run` (the whole pipeline as one Prefect run) and `rcflow demo`.

The only commands that start Prefect flows: they import ``flows/`` (lazily, after Prefect's
settings are applied) and :mod:`rcflow.cli.demo`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from rcflow.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    console,
    emit_json,
    fail,
    handle_errors,
    hush_stderr_at_exit,
    progress_steps,
    settings,
)
from rcflow.config import ConfigError
from rcflow.reports.periods import parse_period

if TYPE_CHECKING:
    from rcflow.cli.demo import DemoResult


def _headline_table(title: str, headline: dict, extra: list[tuple[str, object]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for label, value in extra:
        table.add_row(label, str(value))
    labels = {
        "pmp_global": "global PMP (days)",
        "paid_count": "invoices paid in the period",
        "paid_amount": "amount paid (€)",
        "pending_count": "invoices pending at period end",
        "pending_amount": "amount pending (€)",
        "pending_late_count": "pending past the legal date",
        "art10_count": "art. 10 list (>3 months unrecognised)",
        "updates_owed_to_hub": "updates owed to the hub",
        "quarantined_count": "with open quality findings (counted, flagged)",
    }
    for key, label in labels.items():
        if key in headline:
            value = headline[key]
            table.add_row(label, f"{value:,.2f}" if isinstance(value, float) else str(value))
    return table


@handle_errors
def run(
    period: str = typer.Option(
        "last-month", help="Report period: 2025-10, 2025-Q4, last-month, current-month, last-quarter…"
    ),
    accounting: list[Path] = typer.Option(
        [], "--accounting", help="Accounting files to import before the push."
    ),
    out: Path = typer.Option(None, help="Report folder (default data/reports/<period>)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """The whole pipeline as one Prefect run: sync → import → check → push → report."""
    from rcflow import prefect_env
    from rcflow.connectors.registry import check_hubs

    check_hubs(settings())  # every configured hub ready, or one line naming what is missing
    label = parse_period(period).label  # a wrong period fails now, not after the sync
    for path in accounting:  # and so does a mistyped accounting file
        if not path.is_file() or not os.access(path, os.R_OK):
            problem = "not a readable file" if path.exists() else "no such file"
            raise ConfigError(f"--accounting {path}: {problem}")
    prefect_env.apply(quiet_runs=True)  # before Prefect is imported: it reads them once
    hush_stderr_at_exit()
    from rcflow.prefect_api import FlowsApi

    try:
        api = FlowsApi()  # when no server is configured, one starts now, beside the next import
        from flows.pipeline_flow import pipeline_flow

        with progress_steps(not as_json) as step:
            step("starting the Prefect run")
            with api:
                results = asyncio.run(
                    pipeline_flow(
                        period=label,
                        accounting_files=[str(p) for p in accounting] or None,
                        out_dir=str(out) if out else None,
                    )
                )
    except Exception as exc:  # a failed step: one line, non-zero
        from rcflow.connectors.efact import HubError
        from rcflow.warehouse import WarehouseBusy
        from rcflow.warehouse.failures import storage_failure

        face = sys.modules.get("rcflow.connectors.face.errors")
        hub_errors = (HubError, WarehouseBusy, *((face.FaceError,) if face else ()))
        if isinstance(exc, hub_errors) or storage_failure(exc) is not None:
            raise  # its own line and exit code
        refused = getattr(sys.modules.get("rcflow.push.accounting.load"), "ImportRefused", ())
        if refused and isinstance(exc, refused):  # the input's fault: the operator fixes the file
            fail(f"pipeline stopped: {str(exc).splitlines()[0]}", EXIT_USAGE)
        fail(
            f"pipeline failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", EXIT_PROBLEMS
        )
        return
    if as_json:
        emit_json(results)
        return
    report = results["report"]
    console.print(_headline_table(f"rcflow run · {report['period']}", report["headline"], []))
    console.print(f"report: {report['paths'].get('report.html')}")
    ok = results["sync"].get("ok", True) and results["push"].get("ok", True)
    raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEMS)


@handle_errors
def demo(
    invoices: int = typer.Option(2000, min=10, help="Invoices waiting on the simulated hub."),
    seed: int = typer.Option(2026, help="Simulator seed (same seed, same data)."),
    data_dir: Path = typer.Option(Path("data/demo"), help="Demo folder (wiped at the start)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Run the whole pipeline on local eFACT and FACe simulators: no credentials, nothing leaves loopback."""
    from rcflow.cli.demo import face_connector_available, run_demo

    hush_stderr_at_exit()
    started = time.monotonic()
    face = face_connector_available()
    if not as_json:
        also = " and a simulated FACe (one entity's offices)" if face else ""
        console.print(f"[bold]rcflow demo[/]: simulated eFACT hub on loopback, {invoices} pending"
                      f" invoices{also}")  # fmt: skip
    with progress_steps(not as_json):
        result = run_demo(invoices=invoices, seed=seed, data_dir=data_dir, face=face)
    summary = demo_summary(result, seconds=time.monotonic() - started)
    if as_json:
        emit_json(summary)
    else:
        print_demo_summary(summary)


def demo_summary(result: DemoResult, *, seconds: float) -> dict[str, Any]:
    """What a demo run gives: ``--json`` prints it, the terminal shows it as a table."""
    return {
        "period": result.period,
        "warehouse": str(result.warehouse),
        "report": result.report,
        "sync": result.sync,
        "push": result.push,
        "check": result.check,
        "signature": result.signature,
        "hubs": result.hubs,
        "face_entity": result.face_entity,
        "seconds": round(seconds, 1),
    }


def print_demo_summary(summary: dict[str, Any]) -> None:
    sync, push, report = summary["sync"], summary["push"], summary["report"]
    per_hub = sync["hubs"] if len(sync["hubs"]) > 1 else {}
    console.print(
        _headline_table(
            f"rcflow demo · period {summary['period']}",
            report["headline"],
            [
                ("invoices synced", sync["invoices_new"]),
                *((f"  from {hub}", each["invoices_new"]) for hub, each in per_hub.items()),
                ("amount synced (€)", f"{sync['amount_new']:,.2f}"),
                ("attachments stored", sync["attachments_stored"] + sync["late_attachments_stored"]),
                ("quarantined at ingest (kept)", sync["quarantined"]),
                ("updates pushed to the hub", push["pushed"]),
                ("discrepancies (not pushed)", sum(1 for d in push["discrepancies"] if d["blocking"])),
            ],
        )
    )
    console.print(f"warehouse: {summary['warehouse']}   (try: rcflow sql --help)")
    console.print(f"report:    {Path(report['paths']['report.html']).resolve()}")
    console.print(f"dashboard: {Path(report['paths']['dashboard.html']).resolve()}")
    signature = summary["signature"]
    state = "signed" if signature["signed"] else signature["state"]
    console.print(f"PMP PDF:   {Path(signature['pdf']).resolve()}   ({state} in the efirma GO simulator)")
    console.print(f"done in {summary['seconds']:.0f} s")
