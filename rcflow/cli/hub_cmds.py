"""``rcflow hub serve [--hub efact|face]``: run a hub simulator on loopback.

eFACT's secret comes from the environment (``RCFLOW_SECRET``, or the variable ``--secret-env``
names). FACe's simulator trusts the platform certificate this command makes (a PKCS#12 protected by
``RCFLOW_FACE_CERT_PASSWORD``, kept across restarts) or the PEMs given with ``--register``; it writes
FACe's own signing certificate where the client pins it, and prints the ``RCFLOW_FACE_*`` settings
to use (the password never).

Owns the command's options and errors; the simulators themselves are
:mod:`rcflow.connectors.efact.simulator` and :mod:`rcflow.connectors.face.simulator` (imported
only for the hub served). Also the program behind ``python -m rcflow.connectors.efact.simulator``
(its ``__main__`` is an entry point, not a library).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer

from rcflow.cli.common import EXIT_PROBLEMS, EXIT_USAGE, fail
from rcflow.connectors.efact.simulator.config import DEFAULT_ISSUER, SimConfig
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.server import serve as serve_forever

app = typer.Typer(name="hub", help="A local hub simulator: eFACT (RCF REST API) or FACe (SOAP).",
                  no_args_is_help=True, add_completion=False)
PORTS = {"efact": 8808, "face": 8809}
FACE_PASSWORD_ENV = "RCFLOW_FACE_CERT_PASSWORD"
PLATFORM_P12, PLATFORM_PEM, SERVER_PEM = "platform.p12", "platform.pem", "face-server.pem"


@app.callback()
def main() -> None:
    """A local hub simulator: eFACT (RCF REST API) or FACe (SOAP)."""


@dataclass(frozen=True)
class FacePlatform:
    """What the FACe simulator trusts and what the client needs: the platform's certificate file
    (``None`` when only ``--register``ed PEMs are trusted) and the certificates registered."""

    cert: Path | None
    registered: tuple[Any, ...]


def face_platform(folder: Path, password: str, register: list[Path] | None = None) -> FacePlatform:
    """The platform certificate in ``folder`` (made on first use, read back after), or the PEMs
    of ``register``: what a FACe simulator registers, as FACe's portal does (seed 001)."""
    from cryptography import x509

    from rcflow.connectors.face.credentials import load_credentials
    from rcflow.connectors.face.simulator.certs import certificate_pem, make_identity, write_pkcs12

    if register:
        return FacePlatform(None, tuple(x509.load_pem_x509_certificate(p.read_bytes()) for p in register))
    folder.mkdir(parents=True, exist_ok=True)
    cert = folder / PLATFORM_P12
    if cert.exists():
        identity = load_credentials(cert, password)
    else:
        identity = make_identity("rcflow FACe platform (simulator)", days=365)
        write_pkcs12(identity, cert, password)
    (folder / PLATFORM_PEM).write_bytes(certificate_pem(identity))
    return FacePlatform(cert, (identity.certificate,))


def face_offices(hub: Any) -> list[str]:
    """The simulated FACe's accounting offices (DIR3), for ``RCFLOW_FACE_OFFICES``."""
    return sorted({o.accounting for e in hub.dataset.entities for o in e.offices})


def face_settings_lines(url: str, platform: FacePlatform, server_cert: Path, offices: list[str]) -> list[str]:
    """``RCFLOW_FACE_*`` lines for a ``.env`` (the password named, never printed)."""
    cert = str(platform.cert.resolve()) if platform.cert else "<your registered .p12 or PEM>"
    return [
        f"RCFLOW_FACE_URL={url}",
        f"RCFLOW_FACE_CERT={cert}",
        f"# RCFLOW_FACE_CERT_PASSWORD: the value of {FACE_PASSWORD_ENV} this simulator was started with",
        f"RCFLOW_FACE_SERVER_CERT={server_cert.resolve()}",
        f"RCFLOW_FACE_OFFICES={','.join(offices)}",
    ]


@app.command()
def serve(
    hub: str = typer.Option("efact", "--hub", help="efact or face."),
    port: int = typer.Option(None, help="TCP port on 127.0.0.1 (0: any free port; default 8808, FACe 8809)."),
    host: str = typer.Option("127.0.0.1", help="Bind address (keep it on loopback)."),
    seed: int = typer.Option(0, help="Seed: same seed and options, same data."),
    invoices: int = typer.Option(1000, min=0, help="Invoices waiting in the pending queue."),
    backfill: int | None = typer.Option(None, min=0, help="Invoices far along (not pending)."),
    issuer: str = typer.Option(DEFAULT_ISSUER, envvar="RCFLOW_ISSUER",
                               help="Integrator code accepted as the JWT iss."),
    secret_env: str = typer.Option("RCFLOW_SECRET",
                                   help="Name of the environment variable holding the secret."),
    latency_ms: float = typer.Option(0.0, min=0,
                                     help="Latency: each answer leaves this long after its request arrived."),
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
    folder: Path = typer.Option(Path("data/face-sim"), "--dir",
                                help="FACe: where the platform and FACe certificates are written."),
    register: list[Path] = typer.Option([], help="FACe: trust this PEM certificate (no platform made)."),
    processed: int | None = typer.Option(None, min=0, help="FACe: invoices already confirmed and further."),
    cancellations: int = typer.Option(3, min=0, help="FACe: pending cancellation requests at start."),
) -> None:
    """Serve the simulated hub until Ctrl-C; prints its URL (FACe: and the RCFLOW_FACE_* settings)."""
    if hub not in PORTS:
        fail(f"--hub must be efact or face, got {hub!r}", EXIT_USAGE)
    try:
        anchor = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be YYYY-MM-DD, got {today!r}", EXIT_USAGE)
    port = PORTS[hub] if port is None else port
    faults = Faults(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                    error_rate=error_rate, drop_rate=drop_rate, slow_body_rate=slow_body_rate)  # fmt: skip
    if hub == "face":
        _serve_face(host=host, port=port, seed=seed, invoices=invoices, processed=processed,
                    cancellations=cancellations, clock_offset=clock_offset, today=anchor, faults=faults,
                    folder=folder, register=register)  # fmt: skip
        return
    secret = os.environ.get(secret_env, "")
    if not secret:
        fail(f"set {secret_env} to the HMAC secret the simulator should accept", EXIT_USAGE)
    config = SimConfig(
        seed=seed, invoices=invoices, backfill=backfill, today=anchor,
        issuers={issuer: secret}, hostile_rate=hostile_rate, legacy_codes=legacy_codes,
        clock_offset_seconds=clock_offset, quirks=quirks, faults=faults,
    )

    def ready(url: str) -> None:
        typer.echo(f"eFACT simulator at {url} (issuer {issuer}, seed {seed}, "
                   f"{invoices} pending invoices; controls at {url[:-4]}/_sim/)")

    try:
        serve_forever(config, host=host, port=port, on_ready=ready)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_PROBLEMS)


def _serve_face(*, host: str, port: int, seed: int, invoices: int, processed: int | None, cancellations: int,
                clock_offset: float, today: date | None, faults: Faults, folder: Path,
                register: list[Path]) -> None:  # fmt: skip
    """FACe on loopback, trusting the platform certificate; prints the settings to use."""
    from rcflow.connectors.face.errors import FaceConfigError
    from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig
    from rcflow.connectors.face.simulator.certs import certificate_pem
    from rcflow.connectors.face.simulator.server import serve as serve_face

    password = os.environ.get(FACE_PASSWORD_ENV, "")
    if not password and not register:
        fail(f"set {FACE_PASSWORD_ENV} to the password of the platform certificate (made in {folder}"
             " if absent), or --register the PEM of a certificate of your own", EXIT_USAGE)  # fmt: skip
    try:
        platform = face_platform(folder, password, register)
    except (OSError, ValueError, FaceConfigError) as exc:
        fail(f"FACe platform certificate: {exc}", EXIT_USAGE)
    config = FaceSimConfig(seed=seed, invoices=invoices, processed=processed, cancellations=cancellations,
                           today=today, clock_offset_seconds=clock_offset, faults=faults)  # fmt: skip
    face = FaceHub(config, clients=platform.registered)
    folder.mkdir(parents=True, exist_ok=True)
    server_cert = folder / SERVER_PEM
    server_cert.write_bytes(certificate_pem(face.identity))  # what the client pins: new at each start

    def ready(url: str) -> None:
        typer.echo(f"FACe simulator at {url} (seed {seed}, {len(face.waiting())} invoices in 1200; "
                   f"controls at {url.rsplit('/', 1)[0]}/_sim/). Settings for rcflow:")  # fmt: skip
        for line in face_settings_lines(url, platform, server_cert, face_offices(face)):
            typer.echo(f"  {line}")

    try:
        serve_face(face, host=host, port=port, on_ready=ready)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_PROBLEMS)


if __name__ == "__main__":
    app()
