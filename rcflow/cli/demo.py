"""`rcflow demo`: the whole pipeline on local hub simulators, with no credentials.

Two hubs on free loopback ports, one warehouse: eFACT's simulator (its five entities) and FACe's,
whose platform certificate the demo makes and registers (as FACe's portal does) and of which rcflow
drains one entity's accounting offices (an entity eFACT does not serve). A fresh warehouse under
``data/demo/``, the real Prefect flows (sync of both hubs → simulated accounting → check → push to
each hub → report over every entity), then the period's PMP publication sent for signature to an
efirma GO simulator on loopback and collected signed; then the headline figures.

Part of the command line because it drives the Prefect flows (``flows/``), which no library
package may import; it also imports the simulators and the warehouse.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcflow.config import ConfigError

DEMO_ISSUER = "rcflow-demo"
DEMO_MARKER = ".rcflow-demo"  # in a folder a demo made: the next demo may empty it
DEMO_CLIENT_CIF = "P0899999D"
FACE_ENTITY = 5  # FACe's entity: the simulators' sixth (eFACT's serves the first five)
DEMO_SIGNATORIES = """\
- {role: Interventor/a, name: Marta Puig Soler, email: intervencio@demo.cat, phone: "+34600111222", order: 1}
- {role: Tresorer/a, name: Jordi Vila Roca, email: tresoreria@demo.cat, order: 2}
"""


@dataclass
class DemoResult:
    warehouse: Path
    period: str
    report: dict[str, Any]
    sync: dict[str, Any]
    push: dict[str, Any]
    check: dict[str, Any]
    accounting_file: Path
    signature: dict[str, Any]
    hubs: list[str] = field(default_factory=lambda: ["efact"])
    face_entity: str | None = None


def face_connector_available() -> bool:
    """Whether this rcflow has FACe's connector (the demo runs FACe only then)."""
    return importlib.util.find_spec("rcflow.connectors.face.connector") is not None


@contextmanager
def face_simulator(folder: Path, *, invoices: int, seed: int) -> Iterator[tuple[dict[str, str], str]]:
    """FACe's simulator on loopback in this process, trusting a platform certificate made here;
    yields the ``RCFLOW_FACE_*`` settings (one entity's offices) and that entity's name."""
    from rcflow.cli.hub_cmds import SERVER_PEM, face_platform
    from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig, start_face_simulator
    from rcflow.connectors.face.simulator.certs import certificate_pem

    password = secrets.token_urlsafe(24)
    platform = face_platform(folder, password)
    hub = FaceHub(FaceSimConfig(seed=seed, invoices=invoices, entities=FACE_ENTITY + 1, cancellations=2),
                  clients=platform.registered)  # fmt: skip
    (folder / SERVER_PEM).write_bytes(certificate_pem(hub.identity))
    entity = hub.dataset.entities[FACE_ENTITY]
    with start_face_simulator(hub) as sim:
        yield {
            "RCFLOW_FACE_URL": sim.url,
            "RCFLOW_FACE_CERT": str(platform.cert),
            "RCFLOW_FACE_CERT_PASSWORD": password,
            "RCFLOW_FACE_SERVER_CERT": str(folder / SERVER_PEM),
            "RCFLOW_FACE_OFFICES": ",".join(sorted({o.accounting for o in entity.offices})),
        }, entity.name


def write_accounting_file(warehouse: Path, folder: Path, *, seed: int) -> Path:
    """Events from the simulated accounting system for every stored invoice, as a CSV."""
    import polars as pl

    from rcflow.connectors.efact.simulator.accounting import simulate_accounting_events
    from rcflow.warehouse import Warehouse

    with Warehouse(warehouse, publish=False) as wh:
        invoices = pl.from_arrow(
            wh.arrow(  # the documented view: amounts in euros, converted there once
                "select invoice_id,"
                " cast(timezone('Europe/Madrid', registry_date) as date) as registry_date,"
                " amount, hub_state"
                " from main.invoices where registry_date is not null"
            )
        )
    from rcflow import clock

    events = simulate_accounting_events(invoices, seed=seed, today=clock.today())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "accounting-events.csv"
    events.write_csv(path)
    return path


def run_demo(
    *,
    invoices: int = 2000,
    seed: int = 2026,
    data_dir: Path = Path("data/demo"),
    period: str = "last-month",
    hostile_rate: float = 0.01,
    face: bool | None = None,
) -> DemoResult:
    """``face``: run FACe beside eFACT (default: when this rcflow has FACe's connector). Each
    step is named on ``STEPS_LOGGER`` as it starts, the pipeline's own included."""
    from contextlib import nullcontext

    from rcflow import prefect_env

    announce = logging.getLogger(prefect_env.STEPS_LOGGER).info  # the step starting now
    prefect_env.apply(quiet_runs=True)  # a healthy run prints rcflow's outcome, not Prefect's
    from rcflow.connectors.efact.simulator.process import simulator_process
    from rcflow.prefect_api import FlowsApi

    data_dir = Path(data_dir)
    _start_afresh(data_dir)
    warehouse = data_dir / "warehouse.duckdb"
    secret = secrets.token_urlsafe(32)
    face = face_connector_available() if face is None else face
    for name in [n for n in os.environ if n.startswith("RCFLOW_FACE_")]:
        del os.environ[name]  # the demo's hubs only
    announce("starting the hub simulators on loopback")
    flows_api = FlowsApi()  # when no Prefect server is configured, one starts beside the simulators
    face_sim = (face_simulator(data_dir / "face", invoices=max(200, invoices // 2), seed=seed)
                if face else nullcontext((None, None)))  # fmt: skip
    with simulator_process(
        issuer=DEMO_ISSUER, secret=secret, invoices=invoices, seed=seed, hostile_rate=hostile_rate
    ) as hub_url, face_sim as (face_env, face_entity):
        os.environ.update(
            RCFLOW_HUB_URL=hub_url,
            RCFLOW_ISSUER=DEMO_ISSUER,
            RCFLOW_SECRET=secret,
            RCFLOW_WAREHOUSE=str(warehouse),
            **(face_env or {}),
        )
        from flows.pipeline_flow import pipeline_flow
        from flows.sync_flow import sync_flow
        from rcflow.reports.periods import parse_period

        label = parse_period(period).label
        hubs = "eFACT and FACe" if face else "eFACT"
        announce(f"syncing {hubs}; Prefect starts with this first flow")
        with flows_api:
            first_sync = asyncio.run(sync_flow())
            announce("writing the simulated accounting system's events")
            accounting = write_accounting_file(warehouse, data_dir / "accounting", seed=seed)
            results = asyncio.run(
                pipeline_flow(
                    period=label,
                    accounting_files=[str(accounting)],
                    out_dir=str(data_dir / "reports" / label),
                )
            )
            announce(f"signing the {label} PMP in the efirma GO simulator")
            signature = sign_pmp(data_dir, label)
    return DemoResult(
        warehouse=warehouse,
        period=label,
        report=results["report"],
        sync=first_sync,
        push=results["push"],
        check=results["check"],
        accounting_file=accounting,
        signature=signature,
        hubs=["efact", "face"] if face else ["efact"],
        face_entity=face_entity,
    )


def _start_afresh(data_dir: Path) -> None:
    """An empty ``data_dir``, marked as the demo's. A folder is emptied only if it is empty or an
    earlier demo marked it: ``--data-dir data`` must never delete a real warehouse."""
    marker = data_dir / DEMO_MARKER
    if data_dir.exists():
        if not data_dir.is_dir():
            raise ConfigError(f"--data-dir {data_dir}: not a folder")
        if any(data_dir.iterdir()) and not marker.exists():
            raise ConfigError(
                f"--data-dir {data_dir}: holds files no demo made (no {DEMO_MARKER}); the demo starts "
                "by emptying its folder, so it will not touch this one: choose another or empty it yourself"
            )
        shutil.rmtree(data_dir)  # the demo's own folder: always a fresh start
    data_dir.mkdir(parents=True)
    marker.write_text("made by `rcflow demo`: the next demo into this folder empties it first\n")


def sign_pmp(data_dir: Path, period: str, *, sign_after: float = 0.3, wait: float = 30.0) -> dict[str, Any]:
    """Send the period's PMP publication to an efirma GO simulator and collect it signed, through
    the real flows; each signing block acts ``sign_after`` seconds after the previous one."""
    import time

    from flows.sign_flow import collect_signatures_flow, sign_flow
    from rcflow.signing.efirma.simulator import EfirmaSim, RunningEfirma

    private_key = secrets.token_urlsafe(24)
    signatories = data_dir / "signatories.yml"
    signatories.write_text(DEMO_SIGNATORIES, encoding="utf-8")
    sim = EfirmaSim(private_key=private_key, developer_cif="B00000000",
                    clients={DEMO_CLIENT_CIF: "intervencio@demo.cat"}, sign_after=sign_after)  # fmt: skip
    with RunningEfirma(sim) as efirma:
        os.environ.update(
            RCFLOW_SIGNATORIES=str(signatories), RCFLOW_EFIRMA_URL=efirma.url,
            RCFLOW_EFIRMA_PRIVATE_KEY=private_key, RCFLOW_EFIRMA_DEVELOPER_CIF="B00000000",
            RCFLOW_EFIRMA_CLIENT_CIF=DEMO_CLIENT_CIF, RCFLOW_EFIRMA_CLIENT_EMAIL="intervencio@demo.cat",
        )  # fmt: skip
        sent = sign_flow(period=period, document="pmp")
        deadline = time.monotonic() + wait
        collected = collect_signatures_flow()
        while not collected["signed"] and time.monotonic() < deadline:
            time.sleep(sign_after)
            collected = collect_signatures_flow()
    return {**sent, "signed": bool(collected["signed"])}
