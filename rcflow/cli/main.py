"""The `rcflow` command: the Typer app wiring every sub-command (the console script's entry point).

Imports only the ``*_cmds`` modules beside it.
"""

from __future__ import annotations

from importlib.metadata import version as package_version

import typer

from rcflow.cli import (
    hub_cmds,
    ingest_cmds,
    pipeline_cmds,
    push_cmds,
    quality_cmds,
    quarantine_cmds,
    query_cmds,
    report_cmds,
    store_cmds,
)
from rcflow.cli.common import quiet_libraries
from rcflow.cli.sign_cmds import sign_app

app = typer.Typer(
    name="rcflow",
    help="Run an invoice registry (RCF) against the eFACT hub: sync, check, push, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command()(ingest_cmds.sync)
app.command()(ingest_cmds.backfill)
app.command()(push_cmds.push)
app.add_typer(push_cmds.accounting_app, name="accounting")
app.add_typer(quarantine_cmds.app, name="quarantine")
app.command()(query_cmds.sql)
app.command()(query_cmds.status)
app.add_typer(hub_cmds.app, name="hub")
app.add_typer(store_cmds.app, name="store")
app.command()(quality_cmds.check)
app.command()(report_cmds.report)
app.command()(pipeline_cmds.run)
app.command()(pipeline_cmds.demo)
app.add_typer(sign_app, name="sign")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rcflow {package_version('rcflow')}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print rcflow's version and exit."
    ),
) -> None:
    quiet_libraries()


if __name__ == "__main__":
    app()
