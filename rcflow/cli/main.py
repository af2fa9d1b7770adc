"""The `rcflow` command: the Typer app wiring every sub-command (the console script's entry point).

Imports only the ``*_cmds`` module of the command invoked (``rcflow sync`` loads no polars, GX,
dbt or PDF code); ``rcflow --help`` imports them all to list their help.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from importlib.metadata import version as package_version

import click
import typer
from typer.core import TyperGroup

# Every command, in --help's order: name -> (module beside this one, its command function or
# sub-app). A function becomes `rcflow NAME`, a Typer app the group `rcflow NAME ...`.
COMMANDS: dict[str, tuple[str, str]] = {
    "sync": ("ingest_cmds", "sync"),
    "backfill": ("ingest_cmds", "backfill"),
    "push": ("push_cmds", "push"),
    "accounting": ("push_cmds", "accounting_app"),
    "quarantine": ("quarantine_cmds", "app"),
    "cancellations": ("cancellation_cmds", "app"),
    "sql": ("query_cmds", "sql"),
    "status": ("query_cmds", "status"),
    "hub": ("hub_cmds", "app"),
    "store": ("store_cmds", "app"),
    "check": ("quality_cmds", "check"),
    "report": ("report_cmds", "report"),
    "run": ("pipeline_cmds", "run"),
    "demo": ("pipeline_cmds", "demo"),
    "sign": ("sign_cmds", "sign_app"),
}


# The commands that drain a hub (a long run of many small downloads) get their process
# tuned before their modules load, each setting left alone when the operator made it:
# * no OpenBLAS worker threads: numpy (which pyarrow imports) would start them, and they spin for a
#   while after start-up (~1 % of a 2,000-invoice sync's CPU, measured with perf); a drain does no
#   linear algebra;
# * glibc's mmap threshold fixed: glibc raises it each time a large block is freed (up to 32 MiB);
#   blocks under it then come from the per-thread arenas, which keep them, fragmented, once freed:
#   the sync's peak RSS grew with the queue (~+50 MB from 2,000 to 10,000 invoices, all of it
#   malloc's free memory). A fixed threshold (glibc's starting value) hands such blocks back.
DRAINING_COMMANDS = frozenset({"sync", "backfill"})
M_MMAP_THRESHOLD, MMAP_THRESHOLD = -3, 128 * 1024


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for this process (False: not glibc, or set by the operator)."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    import ctypes

    try:
        return ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    except (AttributeError, OSError):  # no mallopt: not glibc
        return False


def tune_for_draining() -> None:
    """The process settings of :data:`DRAINING_COMMANDS`, before their modules are imported."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    fix_mmap_threshold()


def load_command(name: str) -> click.Command:
    """Import command ``name``'s module and build its Click command as ``app`` would have."""
    module, attribute = COMMANDS[name]
    if name in DRAINING_COMMANDS:
        tune_for_draining()
    target = getattr(import_module(f"rcflow.cli.{module}"), attribute)
    holder = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name=name)(target)
    holder.callback()(lambda: None)  # a group even with one entry
    return typer.main.get_group(holder).commands[name]


class LazyGroup(TyperGroup):
    """The top-level group: commands built on first use, one module at a time."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            if cmd_name not in self.commands:
                self.commands[cmd_name] = load_command(cmd_name)
            return self.commands[cmd_name]
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="rcflow",
    help="Run an invoice registry (RCF) against its hubs (eFACT, FACe): sync, check, push, report.",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
    from rcflow.cli.common import quiet_libraries

    quiet_libraries()


def run() -> None:
    """The ``rcflow`` program: the app, its exit code kept through the interpreter's shutdown."""
    from rcflow.cli.common import keep_exit_code_through_shutdown

    keep_exit_code_through_shutdown()
    app()


if __name__ == "__main__":
    run()
