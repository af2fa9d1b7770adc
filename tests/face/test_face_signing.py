"""Signatures end to end over loopback: FACe refuses what it must, the client rejects what it must."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import httpx
import pytest

from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.errors import (
    FaceInvoiceNotFound,
    FaceResponseSignatureError,
    FaceSecurityError,
)
from rcflow.connectors.face.simulator import FaceHub


class Tamper(httpx.AsyncBaseTransport):
    """A man in the middle that rewrites FACe's answers."""

    def __init__(self, change: Callable[[bytes], bytes]):
        self.inner = httpx.AsyncHTTPTransport()
        self.change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = self.change(await response.aread())
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_request_signed_with_an_unregistered_certificate_is_refused_and_named(
    make_client: Callable[..., FaceClient],
    hub: FaceHub,
    stranger_id: FaceCredentials,
) -> None:
    async with make_client(stranger_id) as face:
        with pytest.raises(FaceSecurityError) as caught:
            await face.new_invoices()
    message = str(caught.value)
    assert caught.value.code == "105" and "\n" not in message
    assert "request signed with certificate CN=someone else's platform" in message
    assert "registered for the platform" in message and caught.value.tracking


async def test_a_blocked_certificate_is_106(
    face: FaceClient, hub: FaceHub, client_id: FaceCredentials
) -> None:
    hub.block(client_id)
    with pytest.raises(FaceSecurityError, match=r"\(106\)"):
        await face.states()


async def test_an_expired_request_timestamp_is_100(face: FaceClient, hub: FaceHub) -> None:
    face.signer.sign = functools.partial(face.signer.sign, now=time.time() - 3600)  # type: ignore[method-assign]
    with pytest.raises(FaceSecurityError, match=r"\(100\).*Timestamp expired"):
        await face.states()


async def test_a_tampered_answer_is_rejected(make_client: Callable[..., FaceClient], hub: FaceHub) -> None:
    number = hub.waiting()[0]
    transport = Tamper(lambda body: body.replace(number.encode(), b"202699999999", 1))
    async with make_client(transport=transport) as face:
        with pytest.raises(FaceResponseSignatureError) as caught:
            await face.new_invoices()
    assert "altered" in str(caught.value) and "signed by certificate CN=FACe simulator (tests)" in str(
        caught.value
    )


async def test_an_answer_signed_by_someone_else_is_rejected(
    face: FaceClient, hub: FaceHub, stranger_id: FaceCredentials
) -> None:
    hub.identity = stranger_id
    with pytest.raises(FaceResponseSignatureError, match="not FACe's pinned certificate"):
        await face.states()


async def test_an_unsigned_answer_is_rejected_unless_it_reports_an_error(
    face: FaceClient, hub: FaceHub
) -> None:
    hub.config = hub.config.with_(sign_responses=False)
    with pytest.raises(FaceResponseSignatureError, match="not signed"):
        await face.states()
    with pytest.raises(FaceInvoiceNotFound, match=r"descargarFactura 202699999999: .*\(unsigned answer\)"):
        await face.download("202699999999")


async def test_an_answer_with_a_refused_algorithm_is_rejected(
    make_client: Callable[..., FaceClient], hub: FaceHub
) -> None:
    async with make_client(accepted_algorithms=("sha512",)) as face:  # the simulator signs rsa-sha256
        with pytest.raises(FaceResponseSignatureError, match="bad signature"):
            await face.states()


async def test_face_clock_far_ahead_is_reported_as_a_timestamp_problem(
    face: FaceClient, hub: FaceHub
) -> None:
    hub.clock_offset_seconds = 3600
    with pytest.raises((FaceSecurityError, FaceResponseSignatureError), match="Timestamp"):
        await face.states()


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
async def test_face_accepts_every_algorithm_clients_use(
    make_client: Callable[..., FaceClient], hub: FaceHub, algorithm: str
) -> None:
    async with make_client(signature_algorithm=algorithm) as face:
        assert await face.states()
