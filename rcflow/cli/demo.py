"""`rcflow demo`: the whole pipeline on a local hub simulator, with no credentials.

A simulator on a free loopback port, a fresh warehouse under ``data/demo/``, the real Prefect
flows (sync → simulated accounting → check → push → report), then the period's PMP publication
sent for signature to an efirma GO simulator on loopback and collected signed; then the headline
figures.

Part of the command line because it drives the Prefect flows (``flows/``), which no library
package may import; it also imports the simulators and the warehouse.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_ISSUER = "rcflow-demo"
DEMO_CLIENT_CIF = "P0899999D"
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
) -> DemoResult:
    from rcflow import prefect_env

    prefect_env.apply(quiet_runs=True)  # a healthy run prints rcflow's outcome, not Prefect's
    from rcflow.connectors.efact.simulator.process import simulator_process

    data_dir = Path(data_dir)
    if data_dir.exists():
        shutil.rmtree(data_dir)  # the demo's own folder: always a fresh start
    data_dir.mkdir(parents=True)
    warehouse = data_dir / "warehouse.duckdb"
    secret = secrets.token_urlsafe(32)
    with simulator_process(
        issuer=DEMO_ISSUER, secret=secret, invoices=invoices, seed=seed, hostile_rate=hostile_rate
    ) as hub_url:
        os.environ.update(
            RCFLOW_HUB_URL=hub_url,
            RCFLOW_ISSUER=DEMO_ISSUER,
            RCFLOW_SECRET=secret,
            RCFLOW_WAREHOUSE=str(warehouse),
        )
        from flows.pipeline_flow import pipeline_flow
        from flows.sync_flow import sync_flow
        from rcflow.reports.periods import parse_period

        label = parse_period(period).label
        first_sync = asyncio.run(sync_flow())
        accounting = write_accounting_file(warehouse, data_dir / "accounting", seed=seed)
        results = asyncio.run(
            pipeline_flow(
                period=label,
                accounting_files=[str(accounting)],
                out_dir=str(data_dir / "reports" / label),
            )
        )
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
    )


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
