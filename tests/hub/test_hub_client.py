"""The hub client against the project's simulator over real loopback HTTP.

Every operation, every documented error code the client can meet, what is retried and what is
not, the token's claims and lifetime, and the secret never showing up anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time

import jwt
import pytest
from hub_support import ISSUER, SECRET, client
from pydantic import SecretStr

from rcflow.connectors.efact import (
    HubAuthError,
    HubClient,
    HubNotFound,
    HubProtocolError,
    HubServerError,
    HubTransportError,
    HubValidationError,
    State,
    StateUpdate,
)
from rcflow.connectors.efact.auth import MAX_LIFETIME, JwtSigner
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.store import BlobStore


async def test_every_read_operation(sim: RunningSimulator, tmp_path) -> None:
    store = BlobStore(tmp_path)
    async with client(sim) as hub:
        entities = await hub.entities()
        assert len(entities.ens) == 3 and all(e.nif.startswith("ES") for e in entities.ens)
        page = await hub.pending_invoices()
        assert page.factures and not page.mesFactures
        first = page.factures[0]
        filtered = await hub.pending_invoices(nif=first.nif, office=first.oficinaComptable)
        assert filtered.factures and {f.nif for f in filtered.factures} == {first.nif}
        detail = await hub.invoice(first.id)
        assert detail.id == first.id and detail.amount_cents is not None
        xml = await hub.facturae(first.id, store)
        assert xml.media_type == "application/xml" and store.get(xml.blob.sha256).lstrip().startswith(b"<")
        history = await hub.states(first.id)
        assert history.estats[-1].state in {State.REGISTERED, State.SENT}
        receipt = await hub.receipt(first.id, store)
        assert receipt.media_type == "application/pdf" and store.get(receipt.blob.sha256).startswith(b"%PDF")
        with_attachment = next(i for i in sim.hub.invoices.values() if i.pending and i.attachments)
        ref = (await hub.invoice(with_attachment.id)).adjunts[0]
        got = await hub.attachment(with_attachment.id, ref.idAdjunt, store)
        assert got.media_type and got.blob.size == len(store.get(got.blob.sha256))


async def test_patch_and_attachment_release(sim: RunningSimulator, tmp_path) -> None:
    store = BlobStore(tmp_path)
    async with client(sim) as hub:
        invoice_id = (await hub.pending_invoices()).factures[-1].id
        detail = await hub.update_state(invoice_id, StateUpdate.build("DELIVERED"))
        assert detail.state is State.DELIVERED
        assert invoice_id not in {f.id for f in (await hub.pending_invoices()).factures}
        annotated = await hub.update_state(invoice_id, StateUpdate.build("ANNOTATED", rcf_number="RCF-9"))
        assert annotated.numeroRegistreRCF == "RCF-9"
        attachment_id = sim.hub.add_attachment(invoice_id, name="../../etc/passwd")
        pending = await hub.pending_attachments()
        assert attachment_id in {a.idAdjunt for a in pending.adjunts}
        got = await hub.attachment(invoice_id, attachment_id, store)
        assert got.blob.size >= 0
        await hub.release_attachment(attachment_id)
        assert attachment_id not in {a.idAdjunt for a in (await hub.pending_attachments()).adjunts}
        with pytest.raises(HubNotFound) as info:
            await hub.release_attachment(attachment_id)
        assert info.value.code == 2002


@pytest.mark.parametrize(
    ("path", "code"),
    [("factura/999999999", 2001), ("factura/999999999/estats", 2001)],
)
async def test_not_found_is_not_retried(sim: RunningSimulator, path: str, code: int) -> None:
    before = len(sim.hub.log)
    async with client(sim) as hub:
        with pytest.raises(HubNotFound) as info:
            if path.endswith("estats"):
                await hub.states("999999999")
            else:
                await hub.invoice("999999999")
    assert info.value.code in {code, 2003}
    assert len(sim.hub.log) - before == 1


async def test_hub_refusals_carry_code_and_one_line(sim: RunningSimulator) -> None:
    async with client(sim) as hub:
        invoice_id = sim.hub.backfill_ids[0]
        paid = next(i for i in sim.hub.invoices.values() if i.state is State.PAID)
        with pytest.raises(HubValidationError) as info:
            await hub.update_state(paid.id, StateUpdate.build("RECOGNISED"))
        assert info.value.status == 400 and info.value.code == 3007
        assert "\n" not in str(info.value) and "3007" in str(info.value)
        unregistered = sim.hub.unregistered_ids[0]
        with pytest.raises(HubValidationError) as info:
            await hub.update_state(unregistered, StateUpdate.build("ANNOTATED", rcf_number="X"))
        assert info.value.code == 3005
        assert invoice_id


async def test_server_errors_are_retried_then_succeed(sim: RunningSimulator) -> None:
    sim.hub.inject("GET", r"^/ens$", status=500, code=9001, times=2)
    async with client(sim) as hub:
        assert (await hub.entities()).ens
        assert hub.stats.retries == 2


async def test_server_errors_give_up_with_the_code(sim: RunningSimulator) -> None:
    sim.hub.inject("GET", r"^/ens$", status=500, code=9999, times=None)
    async with client(sim, max_retries=2) as hub:
        with pytest.raises(HubServerError) as info:
            await hub.entities()
    assert info.value.code == 9999 and hub.stats.retries == 2


async def test_dropped_connections_are_retried(sim: RunningSimulator) -> None:
    sim.hub.inject("GET", r"^/ens$", drop=True, times=2)
    async with client(sim) as hub:
        assert (await hub.entities()).ens
        assert hub.stats.retries == 2


async def test_truncated_download_is_retried_not_stored(sim: RunningSimulator, tmp_path) -> None:
    invoice_id = sim.hub.pending_ids()[0]
    sim.hub.inject("GET", rf"^/factura/{invoice_id}/facturae$", partial=True, times=1)
    store = BlobStore(tmp_path)
    async with client(sim) as hub:
        got = await hub.facturae(invoice_id, store)
    assert store.get(got.blob.sha256) == sim.hub.facturae(invoice_id)
    assert hub.stats.retries == 1
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_patch_is_never_retried_blindly(sim: RunningSimulator) -> None:
    invoice_id = sim.hub.pending_ids()[1]
    sim.hub.inject("PATCH", rf"^/factura/{invoice_id}$", status=500, times=1)
    before = len(sim.hub.log)
    async with client(sim) as hub:
        with pytest.raises(HubServerError):
            await hub.update_state(invoice_id, StateUpdate.build("DELIVERED"))
    assert len(sim.hub.log) - before == 1


async def test_malformed_json_is_a_protocol_error(sim: RunningSimulator) -> None:
    sim.hub.inject("GET", r"^/ens$", status=200, body=b"{not json", times=None)
    async with client(sim) as hub:
        with pytest.raises(HubProtocolError, match="malformed JSON"):
            await hub.entities()
    sim.hub.clear_injections()
    sim.hub.inject("GET", r"^/ens$", status=200, body=b'{"ens": [{"nif": true}]}', times=None)
    async with client(sim) as hub:
        with pytest.raises(HubProtocolError, match="ens"):
            await hub.entities()


async def test_unreachable_hub_is_a_transport_error() -> None:
    async with HubClient("http://127.0.0.1:9/rcf", ISSUER, SecretStr(SECRET), max_retries=1) as hub:
        with pytest.raises(HubTransportError, match="no answer from the hub"):
            await hub.entities()


@pytest.mark.parametrize(
    ("issuer", "secret", "code"),
    [("somebody-else", SECRET, 1003), (ISSUER, "wrong-secret-wrong-secret-wrong-secret!!", 1012)],
)
async def test_auth_refusals_are_not_retried(
    sim: RunningSimulator, issuer: str, secret: str, code: int
) -> None:
    before = max((r.seq for r in sim.hub.log.records()), default=0)
    async with HubClient(sim.base_url, issuer, SecretStr(secret), max_retries=3) as hub:
        with pytest.raises(HubAuthError) as info:
            await hub.entities()
    assert info.value.code == code and info.value.status == 401
    refused = [r for r in sim.hub.log.records() if r.seq > before and r.status == 401]
    assert len(refused) == 1  # asked once, never retried


async def test_expired_token_is_resigned_and_retried(sim: RunningSimulator) -> None:
    async with client(sim) as hub:
        await hub.entities()
        # Pretend our clock ran far behind: the cached token is already expired for the hub.
        hub.signer._token = jwt.encode(
            {"iss": ISSUER, "aud": "efact", "iat": 1, "nbf": 1, "exp": 61}, SECRET, algorithm="HS256"
        )
        hub.signer._expires_at = time.time() + 1000
        assert (await hub.entities()).ens
        assert hub.stats.retries == 1 and hub.stats.by_status[401] == 1


def test_token_claims_and_lifetime() -> None:
    signer = JwtSigner(ISSUER, SecretStr(SECRET), lifetime=60)
    claims = jwt.decode(signer.token(), SECRET, algorithms=["HS256"], audience="efact")
    assert claims["iss"] == ISSUER and claims["aud"] == "efact"
    assert claims["nbf"] == claims["iat"] <= time.time()
    assert 60 <= claims["exp"] - claims["iat"] <= MAX_LIFETIME
    assert jwt.get_unverified_header(signer.token()) == {"alg": "HS256", "typ": "JWT"}
    long = JwtSigner(ISSUER, SecretStr(SECRET), lifetime=10_000)
    c = jwt.decode(long.token(), SECRET, algorithms=["HS256"], audience="efact")
    assert c["exp"] - c["iat"] <= MAX_LIFETIME


def test_token_is_resigned_before_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = JwtSigner(ISSUER, SecretStr(SECRET), lifetime=30)
    first = signer.token()
    assert signer.token() == first  # cached
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 25)  # two thirds of its life gone
    assert signer.token() != first


async def test_secret_never_logged_or_shown(
    sim: RunningSimulator, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.hub.inject("GET", r"^/ens$", status=500, times=1)
    async with client(sim) as hub:
        await hub.entities()
        token = hub.signer.token()
        texts = [repr(hub), repr(hub.signer), repr(hub.http.signer)]
        with pytest.raises(HubNotFound) as info:
            await hub.invoice("999999999")
        texts.append(str(info.value))
    texts.append(caplog.text)
    for text in texts:
        assert SECRET not in text and token not in text


async def test_spec_quirks_from_the_simulator_are_accepted(sim: RunningSimulator) -> None:
    async with client(sim) as hub:
        ids = [i.id for i in sim.hub.invoices.values()]
        details = [await hub.invoice(i) for i in ids]
    assert all(d.id for d in details)
    assert all(d.nifProveidor for d in details if d.estat)


async def test_hub_clock_far_ahead_is_learnt_from_its_date_header(sim: RunningSimulator) -> None:
    sim.hub.clock_offset_seconds = 400  # the hub's clock runs 400 s ahead: our token looks expired
    try:
        async with client(sim) as hub:
            assert (await hub.entities()).ens
            assert hub.stats.by_status[401] == 1 and hub.stats.retries == 1
            assert 390 < hub.signer.clock_offset < 410
            await hub.entities()  # the learnt offset sticks: no more 401s
            assert hub.stats.by_status[401] == 1
    finally:
        sim.hub.clock_offset_seconds = 0


async def test_a_hub_clock_slightly_behind_is_tolerated(sim: RunningSimulator) -> None:
    sim.hub.clock_offset_seconds = -3
    try:
        async with client(sim) as hub:
            assert (await hub.entities()).ens
            assert hub.stats.by_status.get(401, 0) == 0
    finally:
        sim.hub.clock_offset_seconds = 0


async def test_rate_limit_spaces_requests(sim: RunningSimulator) -> None:
    async with client(sim, rate_limit=40, concurrency=8) as hub:
        started = time.monotonic()
        await asyncio.gather(*(hub.entities() for _ in range(12)))
        assert time.monotonic() - started >= 11 / 40 * 0.9


async def test_closing_the_client_ends_calls_in_flight_at_once(sim: RunningSimulator) -> None:
    """An interrupted run must not wait for its slow requests (nor retry them) before it ends."""
    from rcflow.connectors.efact.simulator.faults import Faults

    sim.hub.faults = Faults(latency_ms=5000)
    try:
        hub = client(sim, concurrency=4, max_retries=3)
        calls = [asyncio.ensure_future(hub.entities()) for _ in range(8)]  # 4 running, 4 queued
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await hub.aclose()
        assert time.monotonic() - started < 2.0
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, (HubTransportError, asyncio.CancelledError)) for r in results), results
        assert hub.stats.retries == 0
    finally:
        sim.hub.faults = Faults()
