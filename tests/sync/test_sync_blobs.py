"""A damaged or deleted blob is found by `rcflow store verify` (naming its invoice) and repaired
when the invoice is fetched again; `rcflow status` counts it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import duckdb
import pytest
from invariants import warehouse_rows
from sync_support import ISSUER, SECRET
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.config import Settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_backfill, run_sync
from rcflow.store import BlobStore


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {
        "RCFLOW_HUB_URL": settings.hub_url,
        "RCFLOW_ISSUER": ISSUER,
        "RCFLOW_SECRET": SECRET,
        "RCFLOW_WAREHOUSE": str(settings.warehouse),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


@pytest.mark.sim(invoices=15, late_attachment_rate=0.0)
def test_store_verify_names_the_invoices_of_damaged_and_missing_blobs_and_a_refetch_repairs_them(
    sim: RunningSimulator, settings: Settings
) -> None:
    assert asyncio.run(run_sync(settings)).ok
    store = BlobStore(settings.store_dir)
    assert cli(settings, "store", "verify")[0] == 0
    (truncated, xml_sha), *_ = warehouse_rows(
        settings, "select invoice_id, xml_sha256 from raw.invoices order by invoice_id"
    )
    deleted, attachment_id, att_sha = warehouse_rows(
        settings,
        "select invoice_id, attachment_id, sha256 from raw.attachments"
        f" where invoice_id <> '{truncated}' and size_bytes > 0 order by 1, 2 limit 1",
    )[0]
    path = store.path_for(xml_sha)
    path.write_bytes(path.read_bytes()[:100])  # a disk that lost the file's tail
    store.path_for(att_sha).unlink()

    code, out = cli(settings, "store", "verify", "--json", "--live")
    found = json.loads(out)
    assert code == 1 and not found["ok"]
    assert found["invoices"] == sorted([truncated, deleted])
    problems = {(p["invoice_id"], p["attachment_id"]): p["problem"] for p in found["problems"]}
    assert problems[(truncated, None)] == "damaged: its content no longer has this sha256 (100 bytes)"
    assert problems[(deleted, attachment_id)] == "missing"
    code, text = cli(settings, "store", "verify", "--live")
    assert code == 1 and f"invoice {truncated}: Facturae file" in text
    assert "rcflow store verify --repair" in text

    # status's cheap check (existence, and size where the warehouse has it: attachments) sees the
    # missing attachment; the truncated Facturae file (no size recorded) takes the re-hash.
    code, out = cli(settings, "status", "--json", "--live")
    assert json.loads(out)["damaged_or_missing_blobs"] == 1

    # Fetched again (a backfill): the verified download replaces the damaged copy.
    assert asyncio.run(run_backfill(settings, [truncated])).ok
    assert store.problem(xml_sha) is None and store.get(xml_sha) == sim.hub.facturae(truncated)
    # The released attachment is no longer in its invoice's detail: `--repair` downloads it by id.
    code, out = cli(settings, "store", "verify", "--live", "--repair", "--json")
    assert (code, json.loads(out)["repaired"]) == (0, 1)
    assert store.problem(att_sha) is None
    assert cli(settings, "store", "verify", "--live")[0] == 0


@pytest.mark.sim(invoices=5, late_attachment_rate=0.0)
def test_a_repair_keeps_only_the_bytes_that_were_recorded(sim: RunningSimulator, settings: Settings) -> None:
    assert asyncio.run(run_sync(settings)).ok
    store = BlobStore(settings.store_dir)
    invoice_id, sha = warehouse_rows(settings, "select invoice_id, xml_sha256 from raw.invoices limit 1")[0]
    store.path_for(sha).unlink()
    other = b"<Facturae>other</Facturae>"  # a Facturae, not this invoice's bytes
    sim.hub.inject("GET", rf"^/factura/{invoice_id}/facturae$", status=200, body=other, times=None)
    code, out = cli(settings, "store", "verify", "--live", "--repair", "--json")
    [problem] = json.loads(out)["problems"]
    assert code == 1 and problem["invoice_id"] == invoice_id and problem["problem"] == "missing"
    assert problem["repair"].startswith("not repaired: the hub now serves other bytes")
    assert store.problem(sha) == "missing"


@pytest.mark.sim(invoices=5)
def test_a_damaged_blob_with_the_right_size_is_found_only_by_the_deep_check(
    sim: RunningSimulator, settings: Settings
) -> None:
    assert asyncio.run(run_sync(settings)).ok
    store = BlobStore(settings.store_dir)
    invoice_id, sha = warehouse_rows(settings, "select invoice_id, xml_sha256 from raw.invoices limit 1")[0]
    path: Path = store.path_for(sha)
    data = bytearray(path.read_bytes())
    data[50] ^= 0xFF  # one flipped byte: same size, different content
    path.write_bytes(bytes(data))
    code, out = cli(settings, "store", "verify", "--json", "--live")
    assert code == 1 and json.loads(out)["invoices"] == [invoice_id]
    assert "no longer has this sha256" in json.loads(out)["problems"][0]["problem"]
    assert cli(settings, "store", "verify", "--live", "--quick")[0] == 0  # size and existence only


@pytest.mark.sim(invoices=3)
def test_documents_sent_for_signature_are_checked_too_and_not_fetched_from_the_hub(
    sim: RunningSimulator, settings: Settings
) -> None:
    assert asyncio.run(run_sync(settings)).ok
    sent = BlobStore(settings.store_dir).put(b"%PDF-1.7 the PMP report")
    BlobStore(settings.store_dir).path_for(sent.sha256).unlink()
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            "insert into ops.signature_requests (reference, service, document, period, lang, sent_sha256,"
            " signatories, state, created_at, updated_at) values"
            " ('pmp/2025-11/ca/abc', 'efirma', 'pmp', '2025-11', 'ca', ?, '[]', 'in_process', now(), now())",
            [sent.sha256],
        )
    finally:
        con.close()
    code, out = cli(settings, "store", "verify", "--live", "--repair", "--json")
    found = json.loads(out)
    assert code == 1 and found["invoices"] == []
    [problem] = found["problems"]
    assert problem["what"] == "PDF sent for signature" and problem["attachment_id"] == "pmp/2025-11/ca/abc"
    assert problem["problem"] == "missing"
    assert problem["repair"].startswith("not repaired: not a hub document")
    code, text = cli(settings, "store", "verify", "--live")
    assert "document pmp/2025-11/ca/abc: PDF sent for signature" in text
