"""``rcflow hub serve``: run the eFACT simulator on loopback (the secret comes from the env).

Owns the command's options and errors; the simulator itself is
:mod:`rcflow.connectors.efact.simulator`, which this imports. Also the program behind
``python -m rcflow.connectors.efact.simulator`` (its ``__main__`` is an entry point, not a library).
"""

from __future__ import annotations

import os
from datetime import date

import typer

from rcflow.cli.common import EXIT_PROBLEMS, EXIT_USAGE, fail
from rcflow.connectors.efact.simulator.config import DEFAULT_ISSUER, SimConfig
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.server import serve as serve_forever

app = typer.Typer(name="hub", help="A local eFACT hub simulator (RCF REST API).",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def main() -> None:
    """A local eFACT hub simulator (RCF REST API)."""


@app.command()
def serve(
    port: int = typer.Option(8808, help="TCP port on 127.0.0.1 (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Bind address (keep it on loopback)."),
    seed: int = typer.Option(0, help="Seed: same seed and options, same data."),
    invoices: int = typer.Option(1000, min=0, help="Invoices waiting in the pending queue."),
    backfill: int | None = typer.Option(None, min=0, help="Invoices far along (not pending)."),
    issuer: str = typer.Option(DEFAULT_ISSUER, envvar="RCFLOW_ISSUER",
                               help="Integrator code accepted as the JWT iss."),
    secret_env: str = typer.Option("RCFLOW_SECRET",
                                   help="Name of the environment variable holding the secret."),
    latency_ms: float = typer.Option(0.0, min=0, help="Added latency per request."),
    latency_jitter_ms: float = typer.Option(0.0, min=0, help="Random extra latency."),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="Share of 500 answers."),
    drop_rate: float = typer.Option(0.0, min=0, max=1, help="Share of dropped connections."),
    slow_body_rate: float = typer.Option(0.0, min=0, max=1, help="Share of trickled bodies."),
    hostile_rate: float = typer.Option(0.0, min=0, max=1,
                                       help="Share of hostile invoices (XXE, bombs, bad names)."),
    legacy_codes: float = typer.Option(0.1, min=0, max=1,
                                       help="Share of invoices whose /estats use public codes."),
    clock_offset: float = typer.Option(0.0, help="Hub clock ahead (+) or behind (-), seconds."),
    quirks: bool = typer.Option(True, help="Answer with the spec's inconsistencies."),
    today: str | None = typer.Option(None, help="Anchor date YYYY-MM-DD (default: today)."),
) -> None:
    """Serve the simulated hub until Ctrl-C; prints one line with the base URL."""
    secret = os.environ.get(secret_env, "")
    if not secret:
        fail(f"set {secret_env} to the HMAC secret the simulator should accept", EXIT_USAGE)
    try:
        anchor = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be YYYY-MM-DD, got {today!r}", EXIT_USAGE)
    config = SimConfig(
        seed=seed, invoices=invoices, backfill=backfill, today=anchor,
        issuers={issuer: secret}, hostile_rate=hostile_rate, legacy_codes=legacy_codes,
        clock_offset_seconds=clock_offset, quirks=quirks,
        faults=Faults(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                      error_rate=error_rate, drop_rate=drop_rate, slow_body_rate=slow_body_rate),
    )

    def ready(url: str) -> None:
        typer.echo(f"eFACT simulator at {url} (issuer {issuer}, seed {seed}, "
                   f"{invoices} pending invoices; controls at {url[:-4]}/_sim/)")

    try:
        serve_forever(config, host=host, port=port, on_ready=ready)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_PROBLEMS)


if __name__ == "__main__":
    app()
