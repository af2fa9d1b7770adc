"""rcflow's real sync (``Syncer``) draining a FACe simulator, and the no-loss invariants.

Used in-process by the sync tests and the benchmark, and as a script by the SIGKILL test
(``python face_sync_support.py URL CERT SERVER_CERT WAREHOUSE [OFFICE,...]``), so a killed
process is a real one. The truth is the simulator's own state: an invoice past 1200 was
confirmed, and every confirmed invoice must be in the warehouse with its file and annexes
stored exactly as FACe served them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.settings import FaceSettings
from rcflow.ingest.sync import Syncer, SyncSummary
from rcflow.push import execute
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.runs import new_run_id


def store_dir(warehouse: Path) -> Path:
    return warehouse.parent / "store"  # where rcflow's settings put it


def face_settings(url: str, cert: Path, server_cert: Path, **values: object) -> FaceSettings:
    values.setdefault("concurrency", 8)
    values.setdefault("max_retries", 3)
    return FaceSettings(url=url, cert=cert, server_cert=server_cert, **values)  # type: ignore[arg-type]


async def sync_face(settings: FaceSettings, warehouse: Path, *, window: int | None = None) -> SyncSummary:
    """One sync run: entities, then the pending invoices of every configured office."""
    summary = SyncSummary(run_id=new_run_id("sync"))
    with Warehouse(warehouse) as wh:
        store = BlobStore(store_dir(warehouse))
        connector = FaceConnector.from_settings(settings, store)
        syncer = Syncer(connector, wh, store, summary, window=window or settings.concurrency * 2)
        try:
            await syncer.entities()
            await syncer.drain()
            await syncer.entities()  # FACe's entities are learnt from the invoices' buyers
        finally:
            await connector.aclose()
            summary.requests, summary.retries = connector.requests, connector.retries
    return summary


async def push_face(settings: FaceSettings, warehouse: Path) -> execute.PushSummary:
    """One push run of the warehouse's owed updates to FACe (``rcflow.push.execute.push``)."""
    with Warehouse(warehouse) as wh:
        # The accounting office of each invoice, from the warehouse (a push runs in a process
        # that did not list the invoices).
        def office_of(invoice_id: str) -> str | None:
            found = wh.fetch("select accounting_office from raw.invoices where invoice_id = ?", [invoice_id])
            return found[0][0] if found else None

        store = BlobStore(store_dir(warehouse))
        connector = FaceConnector.from_settings(settings, store, office_of=office_of)
        try:
            return await execute.push(connector, wh, new_run_id("push"))
        finally:
            await connector.aclose()


def face_environment(
    monkeypatch: Any, url: str, pems: tuple[Path, Path], warehouse: Path, offices: Iterable[str]
) -> None:
    """An operator's FACe settings, and no other ``RCFLOW_*``, for the command line (a test's
    ``monkeypatch``; ``pems``: the platform's certificate and key, FACe's certificate)."""
    for name in [n for n in os.environ if n.startswith("RCFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RCFLOW_FACE_URL", url)
    monkeypatch.setenv("RCFLOW_FACE_CERT", str(pems[0]))
    monkeypatch.setenv("RCFLOW_FACE_SERVER_CERT", str(pems[1]))
    monkeypatch.setenv("RCFLOW_FACE_OFFICES", ",".join(sorted(offices)))
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(warehouse))


def rows(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def confirmed_on_hub(hub: object, numbers: Sequence[str]) -> set[str]:
    """Of ``numbers`` (once waiting in 1200), those FACe no longer serves: confirmed."""
    return {n for n in numbers if hub.invoice(n).state.value != "1200"}  # type: ignore[attr-defined]


def assert_nothing_lost(hub: object, warehouse: Path, numbers: Sequence[str]) -> None:
    """Every confirmed invoice is stored once, with its file and annexes as FACe served them."""
    store = BlobStore(store_dir(warehouse))
    stored = dict(
        rows(warehouse, "select invoice_id, xml_sha256 from raw.invoices where source_hub = 'face'")
    )
    attachments = dict(rows(warehouse, "select attachment_id, sha256 from raw.attachments"))
    for number in confirmed_on_hub(hub, numbers):
        invoice_id = f"face:{number}"
        assert invoice_id in stored, f"{invoice_id} confirmed on FACe but not stored"
        served = hashlib.sha256(hub.document(number)).hexdigest()  # type: ignore[attr-defined]
        assert stored[invoice_id] == served, f"{invoice_id} confirmed, but what was stored is not its file"
        assert store.problem(served) is None, f"the stored file of {invoice_id} is missing or damaged"
        for k, (_, body) in enumerate(hub.annexes(number), start=1):  # type: ignore[attr-defined]
            digest = attachments.get(f"{invoice_id}:{k}")
            assert digest == hashlib.sha256(body).hexdigest(), (
                f"annex {k} of {invoice_id} not stored as served"
            )
            assert store.problem(digest) is None
    total, distinct = rows(warehouse, "select count(*), count(distinct invoice_id) from raw.invoices")[0]
    assert total == distinct, "an invoice stored twice"
    confirmations = Counter(
        r.registry_numbers
        for r in hub.log.records("confirmarDescargaFactura")  # type: ignore[attr-defined]
        if r.code == "0"
    )
    assert not [n for n, times in confirmations.items() if times > 1], "an invoice confirmed twice"


def main(argv: list[str]) -> None:
    url, cert, server_cert, warehouse = argv[:4]
    offices = argv[4] if len(argv) > 4 else ""
    settings = face_settings(url, Path(cert), Path(server_cert), offices=offices, concurrency=4)
    summary = asyncio.run(sync_face(settings, Path(warehouse), window=8))
    print(json.dumps(summary.as_dict(), default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
