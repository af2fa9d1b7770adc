"""Behind a misbehaving front (compressing, redirecting, throttling, dripping, truncating), the sync
stores exactly what the hub served or nothing, and acknowledges only what it stored.

The truth is the simulator's own request log (what was acknowledged or released) and the bytes the
hub serves (the sha256 every stored blob must have).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from invariants import (
    acknowledged_on_hub,
    assert_nothing_lost,
    pending_left,
    released_on_hub,
    warehouse_rows,
)
from sync_support import ISSUER, make_settings, release_all_cached_blocks_after_each_batch

from rcflow.config import Settings
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.front import RunningFront
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.ingest.sync import SyncSummary
from rcflow.store import BlobStore


@pytest.fixture
def settings(sim: RunningSimulator, front: RunningFront, tmp_path: Path) -> Settings:
    """rcflow pointed at the front, not at the simulator; few retries keep deferrals quick."""
    return make_settings(sim, tmp_path, hub_url=front.base_url, concurrency=8, max_retries=2)


def sync(settings: Settings) -> SyncSummary:
    return asyncio.run(run_sync(settings))


def served_sha(sim: RunningSimulator, invoice_id: str, attachment_id: str | None = None) -> str:
    if attachment_id is None:
        return hashlib.sha256(sim.hub.facturae(invoice_id)).hexdigest()
    return hashlib.sha256(sim.hub.attachment(invoice_id, attachment_id)[1].read()).hexdigest()


def assert_stored_as_served(sim: RunningSimulator, settings: Settings) -> None:
    """Every stored blob is byte for byte what the hub served, intact in the store."""
    store = BlobStore(settings.store_dir)
    for invoice_id, sha in warehouse_rows(settings, "select invoice_id, xml_sha256 from raw.invoices"):
        assert sha == served_sha(sim, invoice_id), f"Facturae of {invoice_id} is not what the hub served"
        assert store.problem(sha) is None
    for invoice_id, attachment_id, sha in warehouse_rows(
        settings, "select invoice_id, attachment_id, sha256 from raw.attachments"
    ):
        assert sha == served_sha(sim, invoice_id, attachment_id), f"attachment {attachment_id} differs"
        assert store.problem(sha) is None


def reasons_for(summary: SyncSummary, invoice_id: str) -> list[str]:
    return [d["reason"] for d in summary.deferred if d["invoice_id"] == invoice_id]


@pytest.mark.sim(invoices=30)
@pytest.mark.both_event_loops  # also uvloop's (rcflow's commands)
def test_a_compressing_front_stores_the_documents_not_the_compressed_bytes(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    front.add("gzip", r"/facturae$")
    front.add("deflate", r"/adjunts/")
    front.add("br", r"^/factura/\d+$")  # the JSON detail too
    summary = sync(settings)
    assert summary.ok, summary.deferred
    assert pending_left(sim) == 0 and not sim.hub.pending_attachment_ids()
    assert {action for _, _, action in front.log} == {"gzip", "deflate", "br"}
    assert summary.quarantined == 0  # gzip bytes stored as the document would not parse
    assert_stored_as_served(sim, settings)
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=60, page_size=25, late_attachment_rate=0.3)
def test_behind_a_front_evicting_duckdbs_block_cache_stores_only_what_the_hub_served(
    sim: RunningSimulator, front: RunningFront, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block cache released down to nothing after every batch (each checkpointed first),
    behind a front that compresses, redirects one invoice's Facturae and answers HTML for one
    attachment: what is stored is what the hub served, what was not is neither stored nor
    acknowledged, and a clean rerun takes it."""
    releases = release_all_cached_blocks_after_each_batch(monkeypatch)
    redirected = sim.hub.pending_ids()[3]
    front.add("redirect", rf"^/factura/{redirected}/facturae$")
    front.add("gzip", r"/facturae$")
    front.add("html", r"/adjunts/\d+$", times=1)
    front.add("br", r"^/factura/\d+$")
    first = sync(settings)
    assert {"redirect", "gzip", "html", "br"} <= {action for _, _, action in front.log}
    assert sum(releases) > 0
    assert redirected in {d["invoice_id"] for d in first.deferred}
    assert redirected not in acknowledged_on_hub(sim)
    assert_stored_as_served(sim, settings)
    assert_nothing_lost(sim, settings)
    front.clear()
    assert sync(settings).ok and pending_left(sim) == 0
    assert_stored_as_served(sim, settings)
    assert_nothing_lost(sim, settings)


BAD_ANSWERS = [
    ("redirect", "redirected (302) to https://sso.example.invalid/login;"),
    ("html", "not the document (an HTML page (text/html"),
    ("empty", "not the document (an empty body"),
    ("encoding", "content encoding x-custom cannot be decoded"),
    ("truncate", "body truncated: "),
]


@pytest.mark.sim(invoices=12, late_attachment_rate=0.0)
@pytest.mark.parametrize(("action", "reason"), BAD_ANSWERS, ids=[a for a, _ in BAD_ANSWERS])
def test_an_answer_that_is_not_the_document_defers_the_invoice_with_one_reason(
    sim: RunningSimulator, front: RunningFront, settings: Settings, action: str, reason: str
) -> None:
    stuck = sim.hub.pending_ids()[4]
    front.add(action, rf"^/factura/{stuck}/facturae$")
    summary = sync(settings)
    assert not summary.ok
    [why] = reasons_for(summary, stuck)  # one reason, one line, naming what came back
    assert reason in why and "\n" not in why and "s3cr3t-session" not in why
    assert stuck not in acknowledged_on_hub(sim) and stuck in sim.hub.pending_ids()
    stored = warehouse_rows(settings, f"select count(*) from raw.invoices where invoice_id = '{stuck}'")
    assert stored == [(0,)]
    assert pending_left(sim) == 1  # the page's other invoices went through
    assert_stored_as_served(sim, settings)
    front.clear()
    assert sync(settings).ok and pending_left(sim) == 0
    assert_stored_as_served(sim, settings)
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=25, late_attachment_rate=0.5)
def test_an_html_page_for_an_attachment_is_neither_stored_nor_acknowledged_nor_released(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    front.add("html", r"/adjunts/\d+$")  # every attachment download: a "session expired" page
    # Invoices whose detail lists attachments when the sync reads it (the simulator may queue
    # late ones for other invoices once they are acknowledged: those are not these).
    with_attachments = {i.id for i in sim.hub.invoices.values() if any(a.arrived for a in i.attachments)}
    summary = sync(settings)
    deferred = {d["invoice_id"] for d in summary.deferred}
    assert with_attachments and with_attachments <= deferred
    assert not with_attachments & acknowledged_on_hub(sim)
    assert all("not the document (an HTML page" in d["reason"] for d in summary.deferred)
    sim.hub.deliver_late_attachments()
    late = sync(settings)
    assert sim.hub.pending_attachment_ids() and not released_on_hub(sim)
    assert any(d["reason"].startswith("attachment ") for d in late.deferred)
    assert warehouse_rows(settings, "select count(*) from raw.attachments") == [(0,)]
    front.clear()
    assert sync(settings).ok
    assert pending_left(sim) == 0 and not sim.hub.pending_attachment_ids()
    assert_stored_as_served(sim, settings)
    assert_nothing_lost(sim, settings)


@pytest.mark.sim(invoices=20)
@pytest.mark.both_event_loops  # also uvloop's (rcflow's commands)
def test_a_dripping_body_is_cut_at_its_deadline_and_blocks_no_other_invoice(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    stuck = sim.hub.pending_ids()[2]
    # 16 bytes every 0.4 s: every read arrives well within the per-read timeout, for minutes.
    front.add("drip", rf"^/factura/{stuck}/facturae$", drip_bytes=16, drip_delay_s=0.4)
    started = time.monotonic()
    summary = sync(settings.model_copy(update={"timeout": 2.0, "max_retries": 1}))
    assert time.monotonic() - started < 30
    [why] = reasons_for(summary, stuck)
    assert "no complete answer in time" in why
    assert stuck not in acknowledged_on_hub(sim)
    assert pending_left(sim) == 1 and summary.invoices_acknowledged == 19
    assert_stored_as_served(sim, settings)


@pytest.mark.sim(invoices=10)
def test_429_is_retried_after_its_retry_after(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    front.add("throttle", r"^/factures-pendents$", times=2, retry_after="1")
    started = time.monotonic()
    summary = sync(settings)
    assert summary.ok and pending_left(sim) == 0
    assert summary.retries >= 2 and time.monotonic() - started >= 2.0
    assert [a for _, _, a in front.log].count("throttle") == 2
    assert_stored_as_served(sim, settings)


@pytest.mark.sim(invoices=10)
def test_a_429_asking_for_an_hour_defers_instead_of_holding_the_run(
    sim: RunningSimulator, front: RunningFront, settings: Settings
) -> None:
    stuck = sim.hub.pending_ids()[0]
    front.add("throttle", rf"^/factura/{stuck}$", retry_after="3600")
    started = time.monotonic()
    summary = sync(settings)
    assert time.monotonic() - started < 20
    [why] = reasons_for(summary, stuck)
    assert "429" in why and "asked to wait 3600 s" in why
    assert stuck not in acknowledged_on_hub(sim) and pending_left(sim) == 1


@pytest.mark.sim(invoices=120, faults=Faults(error_rate=0.15), issuers={ISSUER: "s" * 21})
def test_retries_and_the_short_secret_warning_stay_off_the_terminal(
    sim: RunningSimulator, front: RunningFront, tmp_path: Path
) -> None:
    env = dict(os.environ)
    env.update(
        RCFLOW_HUB_URL=front.base_url,
        RCFLOW_ISSUER=ISSUER,
        RCFLOW_SECRET="s" * 21,  # the hub's secrets are 21 bytes: its choice, not an operator's
        RCFLOW_WAREHOUSE=str(tmp_path / "wh.duckdb"),
        RCFLOW_MAX_RETRIES="6",
    )
    env.pop("RCFLOW_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "sync", "--json"],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    summary = __import__("json").loads(done.stdout)
    assert summary["retries"] > 0
    assert "retry_scheduled" not in done.stderr and "stamina" not in done.stderr
    assert "InsecureKeyLengthWarning" not in done.stderr and "HMAC key" not in done.stderr
    assert done.stderr.strip() == ""
