"""Async client for the eFACT RCF REST API.

One ``httpx.AsyncClient`` (pooled keep-alive connections), a semaphore bounding requests in
flight, an optional rate limit, and a retry policy that retries only what may succeed next time:
transport errors, timeouts, 5xx, 429 (after its ``Retry-After``, which pauses every lane), and 401
1008/1009 after re-signing the token. PATCH is never retried blindly (it is not idempotent);
callers re-read ``/estats`` instead.

Every attempt has an overall deadline, not only httpx's per-read one: ``timeout`` for connecting
and the headers, extended only as the body arrives at ``MIN_BODY_RATE`` or faster, so a body
dripping a byte at a time fails in about ``timeout`` seconds instead of holding a lane for hours.

A download is stored only if it is the document (see ``rcflow.connectors.efact.documents``): a 2xx answer
(redirects are errors, never followed), its body decoded as the transport encoded it (identity is
asked for; gzip, deflate and br are undone if a front compresses anyway), as long as announced, and
plausibly of the expected type. Its sha256 is that of the decoded, stored bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import stamina
from pydantic import SecretStr, ValidationError

from rcflow.connectors.efact.auth import DEFAULT_LIFETIME, JwtAuth, JwtSigner
from rcflow.connectors.efact.documents import FACTURAE, HEAD_BYTES, RECEIPT, Expect, encoding_problem
from rcflow.connectors.efact.errors import (
    HubAuthError,
    HubError,
    HubNotDocument,
    HubNotFound,
    HubProtocolError,
    HubRateLimited,
    HubRedirect,
    HubStatusError,
    HubTimeout,
    HubTransportError,
    status_error,
)
from rcflow.connectors.efact.models import (
    EntityList,
    ErrorBody,
    HubModel,
    InvoiceDetail,
    PendingAttachmentsPage,
    PendingInvoicesPage,
    StateHistory,
    StateUpdate,
)
from rcflow.store import BlobStore, StoredBlob

log = logging.getLogger("rcflow.connectors.efact")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
RETRY_WAIT_INITIAL = 0.2
RETRY_WAIT_MAX = 5.0
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
MIN_BODY_RATE = 64 * 1024  # bytes/s: a body arriving slower than this overall is a stalled one
MAX_RETRY_AFTER = 120.0  # a 429 asking for a longer wait defers the work to the next run
USER_AGENT = "rcflow/0.1 (+eFACT RCF integration)"
# Documents are asked for as they are: a front that compresses anyway is decoded (aiter_bytes).
DOWNLOAD_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity"}

M = TypeVar("M", bound=HubModel)


def _seg(value: str) -> str:
    """An id as one URL path segment (hub ids are data, never path syntax)."""
    return quote(str(value), safe="")


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    log.debug("retry %d of %s in %.2f s: %r", details.retry_num, details.name, details.wait_for,
              details.caused_by)  # fmt: skip


# Retries are counted in every run's summary; each one is a DEBUG line of rcflow's log, not
# stamina's default WARNING, which a worker process (no logging set up) prints on the terminal.
stamina.instrumentation.set_on_retry_hooks([_log_retry])


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    by_status: Counter[int] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "by_status": dict(self.by_status),
        }


@dataclass(frozen=True)
class Download:
    media_type: str | None
    blob: StoredBlob


class RateLimiter:
    """At most ``rate`` request starts per second (0 = unlimited); ``pause`` holds every start."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (a 429's Retry-After applies to the whole client)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def wait(self) -> None:
        if self._paused_until:
            delay = self._paused_until - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self._paused_until = 0.0
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class _Budget:
    """One attempt's overall deadline: ``timeout`` to the headers, extended as body bytes arrive."""

    __slots__ = ("_cm", "_start", "_timeout", "_when", "received")

    def __init__(self, cm: asyncio.Timeout, timeout: float):
        self._cm, self._timeout = cm, timeout
        self._start = time.monotonic()
        self._when = self._start + timeout
        self.received = 0

    def add(self, nbytes: int) -> None:
        self.received += nbytes
        when = self._start + self._timeout + self.received / MIN_BODY_RATE
        if when > self._when + 0.5:  # rescheduling costs a timer: only for a real extension
            self._when = when
            self._cm.reschedule(when)


class HubClient:
    """The eFACT RCF API. Use ``async with HubClient(...) as hub:``."""

    def __init__(
        self,
        base_url: str,
        issuer: str,
        secret: SecretStr,
        *,
        concurrency: int = 8,
        rate_limit: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_lifetime: int = DEFAULT_LIFETIME,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.signer = JwtSigner(issuer, secret, lifetime=token_lifetime)
        self.max_retries = max_retries
        self.timeout = timeout
        self.concurrency = concurrency
        self.stats = ClientStats()
        self._limiter = RateLimiter(rate_limit)
        # One single-connection client per slot ("lanes"): httpcore's pool scans every
        # connection for every request, so one big pool costs CPU linearly in the concurrency.
        self._lanes: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        verify = ssl.create_default_context()  # one CA bundle load shared by every lane
        self._clients = [
            httpx.AsyncClient(
                verify=verify,
                base_url=self.base_url,
                auth=JwtAuth(self.signer),
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                transport=transport,
            )
            for _ in range(concurrency)
        ]
        for lane in self._clients:
            self._lanes.put_nowait(lane)

    @asynccontextmanager
    async def _lane(self, method: str, path: str) -> AsyncIterator[tuple[httpx.AsyncClient, _Budget]]:
        """A client with a free connection, held for one request (bounds the concurrency), and the
        request's overall deadline (counted from when it may start, not while it queues)."""
        lane = await self._lanes.get()
        budget: _Budget | None = None
        try:
            await self._limiter.wait()
            async with asyncio.timeout(self.timeout) as deadline:
                budget = _Budget(deadline, self.timeout)
                yield lane, budget
        except TimeoutError:
            got = budget.received if budget else 0
            raise HubTimeout(
                method, path, f"no complete answer in time: stalled or slower than "
                f"{MIN_BODY_RATE // 1024} KiB/s after {self.timeout:g} s, {got} bytes received",
            ) from None
        finally:
            self._lanes.put_nowait(lane)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> HubClient:
        settings.require_hub()
        return cls(
            settings.hub_url,
            settings.issuer,
            settings.secret,
            concurrency=settings.concurrency,
            rate_limit=settings.rate_limit,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            token_lifetime=settings.token_lifetime,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"HubClient({self.base_url!r}, issuer={self.signer.issuer!r})"

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for lane in self._clients:
            await lane.aclose()

    # ----------------------------------------------------------------- operations

    async def pending_invoices(
        self, *, nif: str | None = None, office: str | None = None
    ) -> PendingInvoicesPage:
        """GET /factures-pendents: up to 500 invoices waiting for download."""
        return await self._get_model("factures-pendents", PendingInvoicesPage, _filters(nif, office))

    async def invoice(self, invoice_id: str) -> InvoiceDetail:
        """GET /factura/:id. The detail may lack ``id``; it is filled from the request."""
        detail = await self._get_model(f"factura/{_seg(invoice_id)}", InvoiceDetail)
        return detail if detail.id else _with_id(detail, invoice_id)

    async def states(self, invoice_id: str) -> StateHistory:
        """GET /factura/:id/estats: the invoice's state history."""
        return await self._get_model(f"factura/{_seg(invoice_id)}/estats", StateHistory)

    async def entities(self) -> EntityList:
        """GET /ens: the entities of the integrator's platform."""
        return await self._get_model("ens", EntityList)

    async def pending_attachments(
        self, *, nif: str | None = None, office: str | None = None
    ) -> PendingAttachmentsPage:
        """GET /adjunts-pendents: up to 500 attachments waiting for download."""
        return await self._get_model("adjunts-pendents", PendingAttachmentsPage, _filters(nif, office))

    async def facturae(self, invoice_id: str, store: BlobStore) -> Download:
        """GET /factura/:id/facturae, streamed into the blob store (XML or a signed container)."""
        return await self._download(f"factura/{_seg(invoice_id)}/facturae", store, FACTURAE)

    async def attachment(
        self, invoice_id: str, attachment_id: str, store: BlobStore, *, name: str | None = None
    ) -> Download:
        """GET /factura/:id/adjunts/:idAdjunt, streamed into the blob store (Content-Type kept).

        ``name`` is the one the hub gave it: an HTML page served for a ``.pdf`` is refused."""
        path = f"factura/{_seg(invoice_id)}/adjunts/{_seg(attachment_id)}"
        return await self._download(path, store, Expect("attachment", name))

    async def receipt(self, invoice_id: str, store: BlobStore) -> Download:
        """GET /factura/:id/rebut: the electronic receipt (PDF)."""
        return await self._download(f"factura/{_seg(invoice_id)}/rebut", store, RECEIPT)

    async def update_state(self, invoice_id: str, update: StateUpdate) -> InvoiceDetail:
        """PATCH /factura/:id. Sent once: a failure is the caller's to reconcile via /estats."""
        path = f"factura/{_seg(invoice_id)}"
        response = await self._send("PATCH", path, json_body=update.to_json(), retry=False)
        detail = _parse_model("PATCH", path, response, InvoiceDetail)
        return detail if detail.id else _with_id(detail, invoice_id)

    async def release_attachment(self, attachment_id: str) -> None:
        """DELETE /adjunts-pendents/:idAdjunt. A 2002 after a lost answer counts as released."""
        path = f"adjunts-pendents/{_seg(attachment_id)}"
        ambiguous = False

        async def once() -> None:
            nonlocal ambiguous
            try:
                await self._send("DELETE", path, retry=False)
            except HubNotFound as exc:
                if ambiguous and exc.code == 2002:
                    return
                raise
            except (HubTransportError, HubStatusError) as exc:
                if isinstance(exc, HubTransportError) or exc.status >= 500:
                    ambiguous = True
                raise

        await self._retrying(once)

    # ----------------------------------------------------------------- machinery

    async def _get_model(self, path: str, model: type[M], params: dict[str, str] | None = None) -> M:
        response = await self._send("GET", path, params=params)
        return _parse_model("GET", path, response, model)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        async def once() -> httpx.Response:
            async with self._lane(method, path) as (http, budget):
                try:
                    request = http.build_request(method, path, params=params, json=json_body)
                    response = await http.send(request, stream=True)
                except httpx.TimeoutException as exc:
                    raise HubTimeout(method, path, type(exc).__name__) from None
                except httpx.TransportError as exc:
                    raise HubTransportError(method, path, _reason(exc)) from None
                try:
                    await _read_bounded(response, method, path, MAX_JSON_BYTES, budget)
                finally:
                    await response.aclose()
            self._count(response)
            _raise_for_status(method, path, response, self.signer)
            return response

        if retry:
            return await self._retrying(once)
        return await once()

    async def _download(self, path: str, store: BlobStore, expect: Expect) -> Download:
        async def once() -> Download:
            writer = store.writer()
            head = b""
            try:
                async with self._lane("GET", path) as (http, budget):
                    try:
                        request = http.build_request("GET", path, headers=DOWNLOAD_HEADERS)
                        response = await http.send(request, stream=True)
                    except httpx.TimeoutException as exc:
                        raise HubTimeout("GET", path, type(exc).__name__) from None
                    except httpx.TransportError as exc:
                        raise HubTransportError("GET", path, _reason(exc)) from None
                    try:
                        if 200 <= response.status_code < 300:
                            head = await _stream_document(response, path, writer, budget)
                        else:
                            await _read_bounded(response, "GET", path, MAX_ERROR_BODY, budget)
                    finally:
                        await response.aclose()
                self._count(response)
                _raise_for_status("GET", path, response, self.signer)
                media_type = _media_type(response)
                if problem := expect.problem(media_type, head, writer.size):
                    raise HubNotDocument("GET", path, problem)
                # The connection slot is free again: the disk work must not hold it.
                blob = await asyncio.to_thread(writer.commit)
            except BaseException:
                writer.abort()
                raise
            return Download(media_type, blob)

        return await self._retrying(once)

    async def _retrying(self, once: Callable[[], Awaitable[Any]]) -> Any:
        # Fast path: most calls succeed first time, and building a retry context per request
        # costs more CPU than the request's own bookkeeping.
        try:
            return await once()
        except Exception as exc:
            wait = self._retry_wait(exc) if self.max_retries > 0 else False
            if wait is False:
                raise
        if wait is True:
            wait = RETRY_WAIT_INITIAL * (1 + random.random())  # backoff + jitter
        await asyncio.sleep(wait)
        async for attempt in stamina.retry_context(
            on=self._retry_wait,
            attempts=self.max_retries,
            timeout=None,
            wait_initial=RETRY_WAIT_INITIAL,
            wait_max=RETRY_WAIT_MAX,
            wait_jitter=RETRY_WAIT_INITIAL,
        ):
            with attempt:
                self.stats.retries += 1
                return await once()
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_wait(self, exc: Exception) -> bool | float:
        """Whether to retry (True: stamina's backoff), or after how many seconds (a 429)."""
        if not _should_retry(exc):
            return False
        if isinstance(exc, HubRateLimited):
            wait = RETRY_WAIT_MAX if exc.retry_after is None else exc.retry_after
            if wait > MAX_RETRY_AFTER:
                return False
            self._limiter.pause(wait)  # every lane waits, not just this request
            return wait
        return True

    def _count(self, response: httpx.Response) -> None:
        self.stats.requests += 1
        self.stats.by_status[response.status_code] += 1


def _filters(nif: str | None, office: str | None) -> dict[str, str] | None:
    params = {}
    if nif:
        params["nif"] = nif
    if office:
        params["oficinaComptable"] = office
    return params or None


def _with_id(detail: InvoiceDetail, invoice_id: str) -> InvoiceDetail:
    copy = detail.model_copy(update={"id": str(invoice_id)})
    copy._raw = detail._raw  # type: ignore[attr-defined]
    return copy


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _should_retry(exc: Exception) -> bool:
    if isinstance(exc, HubTransportError):
        return True
    if isinstance(exc, HubStatusError):
        return exc.retryable
    return False


async def _read_bounded(
    response: httpx.Response, method: str, path: str, limit: int, budget: _Budget
) -> None:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise HubProtocolError(method, path, f"answer larger than {limit} bytes")
            chunks.append(chunk)
            budget.add(len(chunk))
    except httpx.TimeoutException as exc:
        raise HubTimeout(method, path, type(exc).__name__) from None
    except httpx.DecodingError as exc:
        raise HubTransportError(method, path, f"body not decodable: {exc}") from None
    except httpx.TransportError as exc:
        raise HubTransportError(method, path, _reason(exc)) from None
    response._content = b"".join(chunks)  # body read once, kept for the caller


async def _stream_document(response: httpx.Response, path: str, writer: Any, budget: _Budget) -> bytes:
    """Stream a 2xx body, decoded, into ``writer``; checks its length; returns its first bytes."""
    if problem := encoding_problem(response.headers.get("content-encoding")):
        raise HubNotDocument("GET", path, problem)
    head = b""
    try:
        async for chunk in response.aiter_bytes():  # decoded: what is stored is the document
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            writer.write(chunk)
            budget.add(len(chunk))
    except httpx.TimeoutException as exc:
        raise HubTimeout("GET", path, type(exc).__name__) from None
    except httpx.DecodingError as exc:
        encoding = response.headers.get("content-encoding", "")
        raise HubTransportError("GET", path, f"body not decodable as {encoding!r}: {exc}") from None
    except httpx.TransportError as exc:
        raise HubTransportError("GET", path, _reason(exc)) from None
    _check_length(response, path)
    return head


def _check_length(response: httpx.Response, path: str) -> None:
    """Content-Length counts the body as sent (encoded), so compare it with the bytes received."""
    declared = response.headers.get("content-length", "").strip()
    got = response.num_bytes_downloaded
    if declared.isdigit() and int(declared) != got:
        raise HubTransportError("GET", path, f"body truncated: {got} of {declared} bytes")


def _media_type(response: httpx.Response) -> str | None:
    value = response.headers.get("content-type")
    return value.split(";")[0].strip().lower() or None if value else None


def _raise_for_status(method: str, path: str, response: httpx.Response, signer: JwtSigner) -> None:
    """Only a 2xx is an answer: a redirect is an error naming where it pointed."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status < 400:
        raise HubRedirect(method, path, status, _location(response))
    if status == 429:
        raise HubRateLimited(method, path, _retry_after(response.headers.get("retry-after")))
    code, description = _error_body(response)
    error = status_error(method, path, status, code, description)
    if isinstance(error, HubAuthError) and error.retryable:
        signer.invalidate(response.headers.get("date"))
    log.debug("hub error %s", error)
    raise error


def _location(response: httpx.Response) -> str | None:
    """Where a redirect pointed, without credentials, query or fragment (they may carry secrets)."""
    value = response.headers.get("location")
    if not value:
        return None
    parts = urlsplit(value.strip())
    host = parts.netloc.rpartition("@")[2]  # never user:password@
    where = f"{parts.scheme}://{host}{parts.path}" if host else parts.path
    return "".join(c if c.isprintable() else "?" for c in where)[:200] or None


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_body(response: httpx.Response) -> tuple[int | None, str | None]:
    try:
        body = ErrorBody.model_validate(json.loads(response.content or b"{}"))
    except (ValueError, ValidationError):
        return None, None
    return body.codiError, body.descripcioError


def _parse_model(method: str, path: str, response: httpx.Response, model: type[M]) -> M:
    text = response.content.decode("utf-8", errors="replace")
    try:
        parsed = model.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise HubProtocolError(method, path, f"malformed JSON at char {exc.pos}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise HubProtocolError(method, path, f"{where}: {first['msg']}") from None
    parsed._raw = text  # type: ignore[attr-defined]
    return parsed


__all__ = ["ClientStats", "Download", "HubClient", "HubError"]
