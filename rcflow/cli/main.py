"""The `rcflow` command: typer app wiring every sub-command."""

from __future__ import annotations

from importlib.metadata import version as package_version

import typer

from rcflow.cli import ingest_cmds, pipeline_cmds, push_cmds, quarantine_cmds, query_cmds, store_cmds
from rcflow.cli.common import quiet_libraries
from rcflow.cli.sign_cmds import sign_app
from rcflow.connectors.efact.simulator.cli import app as hub_app
from rcflow.quality.cli import check as check_command
from rcflow.reports.cli import report as report_command

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
app.add_typer(hub_app, name="hub")
app.add_typer(store_cmds.app, name="store")
app.command("check")(check_command)
app.command("report")(report_command)
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
