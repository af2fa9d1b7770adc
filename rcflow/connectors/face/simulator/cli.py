"""The FACe simulator's command line (``python -m rcflow.connectors.face.simulator …``).

The client certificate's password comes only from ``RCFLOW_FACE_CERT_PASSWORD``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import typer
from cryptography import x509

from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.face.simulator.certs import certificate_pem, make_identity, write_pkcs12
from rcflow.connectors.face.simulator.data import FaceSimConfig
from rcflow.connectors.face.simulator.server import serve as serve_forever
from rcflow.connectors.face.simulator.service import FaceHub

app = typer.Typer(
    name="face-simulator",
    help="A local FACe (RCF web service) simulator.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("make-cert")
def make_cert(
    out: Path = typer.Option(..., help="Where to write the client's PKCS#12 (.p12)."),
    name: str = typer.Option("rcflow FACe platform", help="The certificate's common name."),
    days: int = typer.Option(365, min=1, help="Validity in days."),
) -> None:
    """Write a throw-away client certificate (PKCS#12) and its public PEM beside it."""
    password = os.environ.get("RCFLOW_FACE_CERT_PASSWORD", "")
    if not password:
        typer.echo("error: set RCFLOW_FACE_CERT_PASSWORD to the password the .p12 should have", err=True)
        raise typer.Exit(2)
    identity = make_identity(name, days=days)
    write_pkcs12(identity, out, password)
    out.with_suffix(".pem").write_bytes(certificate_pem(identity))
    typer.echo(f"wrote {out} and {out.with_suffix('.pem')} ({identity.description})")


@app.command()
def serve(
    register: list[Path] = typer.Option([], help="PEM certificate(s) FACe accepts requests from."),
    server_cert_out: Path | None = typer.Option(None, help="Write FACe's signing certificate (PEM) here."),
    port: int = typer.Option(8809, help="TCP port on 127.0.0.1 (0: any free port)."),
    host: str = typer.Option("127.0.0.1", help="Bind address (keep it on loopback)."),
    seed: int = typer.Option(0, help="Seed: same seed and options, same data."),
    invoices: int = typer.Option(200, min=0, help="Invoices waiting in 1200."),
    processed: int | None = typer.Option(None, min=0, help="Invoices already confirmed and further."),
    cancellations: int = typer.Option(3, min=0, help="Pending cancellation requests at start."),
    latency_ms: float = typer.Option(0.0, min=0, help="Added latency per call."),
    error_rate: float = typer.Option(0.0, min=0, max=1, help="Share of HTTP 500 SOAP faults."),
    drop_rate: float = typer.Option(0.0, min=0, max=1, help="Share of dropped connections."),
    clock_offset: float = typer.Option(0.0, help="FACe's clock ahead (+) or behind (-), seconds."),
    today: str | None = typer.Option(None, help="Anchor date YYYY-MM-DD (default: today)."),
) -> None:
    """Serve the simulated FACe until Ctrl-C; prints one line with the service URL."""
    try:
        clients = tuple(x509.load_pem_x509_certificate(p.read_bytes()) for p in register)
        anchor = date.fromisoformat(today) if today else None
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    config = FaceSimConfig(
        seed=seed,
        invoices=invoices,
        processed=processed,
        cancellations=cancellations,
        today=anchor,
        clock_offset_seconds=clock_offset,
        faults=Faults(latency_ms=latency_ms, error_rate=error_rate, drop_rate=drop_rate),
    )
    hub = FaceHub(config, clients=clients)
    if server_cert_out is not None:
        server_cert_out.write_bytes(certificate_pem(hub.identity))

    def ready(url: str) -> None:
        typer.echo(
            f"FACe simulator at {url} (seed {seed}, {len(hub.waiting())} invoices in 1200, "
            f"{len(clients)} registered certificate(s); controls at {url.rsplit('/', 1)[0]}/_sim/)"
        )

    try:
        serve_forever(hub, host=host, port=port, on_ready=ready)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
