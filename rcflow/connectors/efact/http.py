"""The one place eFACT requests are sent: connections, token, rate limit, deadlines, retries, errors.

Async, on the event loop (``rcflow.connectors.efact.wire``): at most ``concurrency`` requests in
flight, each on a keep-alive connection of its own, all read by the loop's one thread. Measured
against the same rules over ``http.client`` in a thread per connection (``bench/HISTORY.md``,
eleventh round), the threads waiting for the GIL cost more CPU than the requests themselves.

The rules, applied here for every eFACT request (the retry policy and the deadline are shared
with FACe's client):

* only a 2xx is an answer; a redirect is an error naming where it pointed (never followed); a
  download is only ever a 200 (a 206 is part of the file, a 204 none of it);
* retried (on the policy both hubs share, ``rcflow.connectors.retries``): transport errors,
  timeouts, 5xx, 429 (after its ``Retry-After``, which pauses every request; too long a wait is
  not retried), 401 1008/1009 after re-signing the token (the hub's ``Date`` teaches the clock
  offset); PATCH/DELETE are sent once (``retry=False``);
* every attempt has an overall deadline (``rcflow.connectors.deadline``): ``timeout`` to the
  headers, extended only as the body arrives at ``MIN_BODY_RATE`` or faster, so a dripping body
  fails in about ``timeout`` seconds;
* a body is decoded as the transport encoded it (identity is asked for; gzip, deflate and br are
  undone, and transfer codings before a final ``chunked``) and must be as long as announced; its
  framing unambiguous (``wire.FramingError``: a protocol error, not retried); each coded stream
  complete (a body ending inside one is a transport error, retried; a gzip body may hold several
  members; bytes after a stream's end are an error); decoded in pieces of at most about ``CHUNK``,
  so the size cap (``MAX_JSON_BYTES``, ``MAX_DOWNLOAD_BYTES``) holds for the decoded bytes as for
  the raw ones, and a compression bomb is refused before it is in memory or on disk.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import re
import ssl
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import brotli
from pydantic import ValidationError

from rcflow.connectors.deadline import Deadline
from rcflow.connectors.efact.auth import JwtSigner
from rcflow.connectors.efact.documents import encoding_problem
from rcflow.connectors.efact.errors import (
    HubAuthError,
    HubNotDocument,
    HubProtocolError,
    HubRateLimited,
    HubRedirect,
    HubStatusError,
    HubTimeout,
    HubTransportError,
    status_error,
)
from rcflow.connectors.efact.models import ErrorBody
from rcflow.connectors.efact.wire import Connection, FramingError, Head, host_field, request_bytes
from rcflow.connectors.retries import (
    DEFAULT_MAX_RETRIES,
    MAX_RETRY_AFTER,
    RETRY_WAIT_MAX,
    retry_after,
    retrying,
)

log = logging.getLogger("rcflow.connectors.efact")

DEFAULT_TIMEOUT = 30.0
DEFAULT_CONCURRENCY = 8
MAX_JSON_BYTES = 20 * 1024 * 1024
# A downloaded document, raw and decoded: four times the Facturae parser's limit, far above any
# attachment the hub serves (a gzip bomb of 0.3 MB decodes to 300 MB).
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
CHUNK = 64 * 1024
USER_AGENT = "rcflow/0.1 (+eFACT RCF integration)"
# Header lines after User-Agent and Authorization (``wire.request_bytes`` adds Host,
# ``Accept-Encoding: identity`` and Content-Length: documents are asked for as they are, and a
# front that compresses anyway is decoded).
JSON_FIELDS = b"Accept: application/json\r\n"
DOWNLOAD_FIELDS = b"Accept: */*\r\n"
_BODY_FIELDS = b"Content-Type: application/json\r\n"
_AGENT_FIELD = f"User-Agent: {USER_AGENT}\r\n".encode("ascii")

T = TypeVar("T")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*)*")


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    by_status: Counter[int] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "retries": self.retries, "by_status": dict(self.by_status)}


@dataclass
class Answer:
    """A complete answer: status, headers (lower-case names) and the decoded body."""

    status: int
    headers: dict[str, str]
    body: bytes


class RateLimiter:
    """At most ``rate`` request starts per second (0 = unlimited); ``pause`` holds every start."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (a 429's Retry-After applies to the whole client)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def wait(self) -> None:
        if self._paused_until and (delay := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        if not self.interval:
            return
        now = time.monotonic()
        delay = self._next - now
        self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class _SinkFailed(Exception):
    """Writing a downloaded chunk failed (a full disk): raised as the ``OSError`` it wraps."""


class Http:
    """Requests to one hub from one event loop: at most ``concurrency`` in flight, each on a
    keep-alive connection of its own."""

    def __init__(
        self,
        base_url: str,
        signer: JwtSigner,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate_limit: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/") + "/"
        self.signer = signer
        self.timeout = timeout
        self.max_retries = max_retries
        self.concurrency = max(1, concurrency)
        self.stats = ClientStats()
        self.limiter = RateLimiter(rate_limit)
        self._ssl = ssl.create_default_context() if self.https else None
        self._host_field = host_field(self.host, self.port, 443 if self.https else 80)
        self._idle: list[Connection] = []
        self._open: set[Connection] = set()
        self._slots: asyncio.Semaphore | None = None  # made in the loop that uses it
        self._loop: asyncio.AbstractEventLoop | None = None
        self._auth_line: tuple[str | None, bytes] = (None, b"")
        self.stopped = False

    def stop(self) -> None:
        """Refuse new requests and end the ones in flight (they fail at once)."""
        self.stopped = True
        self.close()

    def close(self) -> None:
        """Close every connection."""
        for conn in self._open:
            conn.close()
        self._open.clear()
        self._idle.clear()

    # ------------------------------------------------------------------ public

    async def json(self, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: dict[str, str] | None = None, retry: bool = True) -> Answer:  # fmt: skip
        """A JSON call; raises the typed error of anything but a 2xx."""
        payload = json.dumps(body).encode() if body is not None else None
        target = path + ("?" + urlencode(params) if params else "")

        async def once() -> Answer:
            answer = await self._exchange(method, target, payload, JSON_FIELDS, None, MAX_JSON_BYTES)
            self._raise_for_status(method, path, answer)
            return answer

        return await self.retrying(once) if retry else await once()

    async def download(self, path: str, sink: Callable[[bytes], None], *, limit: int | None = None) -> Answer:
        """One GET attempt streaming a 200's body, decoded, into ``sink`` (the caller retries): at
        most ``limit`` bytes (``MAX_DOWNLOAD_BYTES``), raw and decoded. Any other 2xx raises
        ``HubNotDocument``."""
        limit = MAX_DOWNLOAD_BYTES if limit is None else limit
        answer = await self._exchange("GET", path, None, DOWNLOAD_FIELDS, sink, limit)
        self._raise_for_status("GET", path, answer)
        return answer

    async def retrying(self, once: Callable[[], Awaitable[T]]) -> T:
        """``await once()``, retried as the policy says (``rcflow.connectors.retries``)."""
        return await retrying(once, wait_for=self._retry_wait, attempts=self.max_retries,
                              on_retry=self._count_retry)  # fmt: skip

    def _count_retry(self) -> None:
        self.stats.retries += 1

    # ------------------------------------------------------------------ machinery

    def _bind(self) -> None:
        """Use the running event loop: connections and the request slots belong to one loop (a
        client used again under a new ``asyncio.run`` starts afresh)."""
        self.close()
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(self.concurrency)

    async def _connection(self) -> Connection:
        """An idle connection still open, else a new one (an idle keep-alive the hub closed is
        replaced rather than failing a request and its retry)."""
        while self._idle:
            conn = self._idle.pop()
            if conn.reusable:
                return conn
            self._discard(conn)
        conn = await Connection.open(self.host, self.port, context=self._ssl, timeout=self.timeout)
        self._open.add(conn)
        return conn

    def _discard(self, conn: Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def _exchange(
        self,
        method: str,
        target: str,
        payload: bytes | None,
        extra: bytes,
        sink: Callable[[bytes], None] | None,
        limit: int | None,
    ) -> Answer:
        """Send one request and read its whole answer within the attempt's deadline."""
        path = target.split("?", 1)[0]
        if self.stopped:
            raise HubTransportError(method, path, "the client was stopped (the run is ending)")
        if self._loop is not asyncio.get_running_loop():
            self._bind()
        async with self._slots:  # type: ignore[union-attr]
            await self.limiter.wait()
            if self.stopped:  # stopped while this request waited for its turn
                raise HubTransportError(method, path, "the client was stopped (the run is ending)")
            fields = b"".join((_AGENT_FIELD, self._authorization(), extra,
                               _BODY_FIELDS if payload is not None else b""))  # fmt: skip
            request = request_bytes(self._host_field, method, self.prefix + target, fields, payload)
            deadline = Deadline(self.timeout)
            conn: Connection | None = None
            try:
                conn = await self._connection()
                conn.send(request)
                head = await conn.read_head(deadline, method)
                status = head.status
                names = dict(head.fields.items())  # names lower-cased
                ok = 200 <= status < 300
                if ok and sink is not None:
                    if status != 200:  # rcflow never asks for a range: only a 200 is the whole file
                        raise HubNotDocument(method, path, f"status {status} {head.reason[:40]}, not 200")
                    if problem := encoding_problem(names.get("content-encoding")):
                        raise HubNotDocument(method, path, problem)
                    body = b""
                    async for chunk in _decoded(conn, head, names, deadline, method, path, limit):
                        try:
                            sink(chunk)
                        except OSError as exc:  # the disk's failure, not the hub's: never retried
                            raise _SinkFailed from exc
                else:
                    cap = limit if ok and limit is not None else MAX_ERROR_BODY
                    pieces = _decoded(conn, head, names, deadline, method, path, cap)
                    body = b"".join([piece async for piece in pieces])
            except _SinkFailed as failed:
                self._end(conn)
                raise failed.__cause__ from None  # type: ignore[misc]
            except TimeoutError:
                self._end(conn)
                raise HubTimeout(method, path, deadline.expired()) from None
            except FramingError as exc:
                self._end(conn)
                raise HubProtocolError(method, path, str(exc)) from None
            except http.client.IncompleteRead as exc:
                self._end(conn)
                got = deadline.received
                reason = f"body truncated: {got} of {got + exc.expected} bytes" if exc.expected \
                    else _reason(exc)  # fmt: skip
                raise HubTransportError(method, path, reason) from None
            except (OSError, http.client.HTTPException) as exc:
                self._end(conn)
                raise HubTransportError(method, path, _reason(exc)) from None
            except BaseException:
                self._end(conn)
                raise
            if head.will_close:
                self._discard(conn)
            else:
                self._idle.append(conn)
        self.stats.requests += 1
        self.stats.by_status[status] += 1
        return Answer(status, names, body)

    def _end(self, conn: Connection | None) -> None:
        if conn is not None:
            self._discard(conn)

    def _authorization(self) -> bytes:
        """The Authorization line of the current token (encoded once per token)."""
        token = self.signer.token()
        cached = self._auth_line
        if cached[0] != token:
            if not _TOKEN.fullmatch(token):  # a JWT is base64url and dots: nothing to inject
                raise ValueError("the signed token is not a JWT (base64url and dots)")
            cached = self._auth_line = (token, f"Authorization: Bearer {token}\r\n".encode("ascii"))
        return cached[1]

    def _raise_for_status(self, method: str, path: str, answer: Answer) -> None:
        status = answer.status
        if 200 <= status < 300:
            return
        if status < 400:
            raise HubRedirect(method, path, status, _location(answer.headers.get("location")))
        if status == 429:
            raise HubRateLimited(method, path, retry_after(answer.headers.get("retry-after")))
        code, description = _error_body(answer.body)
        error = status_error(method, path, status, code, description)
        if isinstance(error, HubAuthError) and error.retryable:
            self.signer.invalidate(answer.headers.get("date"))
        log.debug("hub error %s", error)
        raise error

    def _retry_wait(self, exc: Exception) -> bool | float:
        """Whether to retry (True: stamina's backoff), or after how many seconds (a 429)."""
        if self.stopped:
            return False
        retry = exc.retryable if isinstance(exc, HubStatusError) else isinstance(exc, HubTransportError)
        if not retry:
            return False
        if isinstance(exc, HubRateLimited):
            wait = RETRY_WAIT_MAX if exc.retry_after is None else exc.retry_after
            if wait > MAX_RETRY_AFTER:
                return False
            self.limiter.pause(wait)  # every request waits, not just this one
            return wait
        return True


async def _decoded(
    conn: Connection,
    head: Head,
    headers: dict[str, str],
    deadline: Deadline,
    method: str,
    path: str,
    limit: int | None,
) -> AsyncIterator[bytes]:
    """The body, decoded, chunk by chunk, within the deadline and ``limit`` (raw and decoded);
    every coded stream must end with the body (the connection checks the announced length)."""
    decoders = _decoders(head.codings, headers.get("content-encoding"), method, path)
    raw_size = size = 0
    async for raw in conn.body(head, deadline, CHUNK):
        raw_size += len(raw)
        if limit is not None and raw_size > limit:
            raise HubProtocolError(method, path, f"answer larger than {limit} bytes")
        for piece in _through(decoders, raw):
            size += len(piece)
            if limit is not None and size > limit:
                raise HubProtocolError(method, path, f"answer larger than {limit} bytes once decoded")
            yield piece
    for decoder in decoders if raw_size else ():  # an empty body has nothing to decode
        if not decoder.finished():
            raise HubTransportError(
                method, path, f"body truncated: it ends inside its {decoder.coding!r} stream"
            )


def _through(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    """``data`` through each decoder in turn (the first undoes the last coding applied)."""
    if not decoders:
        if data:
            yield data
        return
    for piece in decoders[0].feed(data):
        yield from _through(decoders[1:], piece)


def _decoders(
    transfer: tuple[str, ...], content_encoding: str | None, method: str, path: str
) -> list[_Decoder]:
    """Decoders for the content codings, then the transfer codings applied over them (RFC 9112
    §7), last applied first."""
    content = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    decoders: list[_Decoder] = []
    for coding in reversed([*content, *transfer]):
        if coding in ("gzip", "x-gzip"):
            decoders.append(_Zlib(coding, zlib.MAX_WBITS | 16, method, path, members=True))
        elif coding == "deflate":
            decoders.append(_Deflate(method, path))
        elif coding == "br":
            decoders.append(_Brotli(method, path))
    return decoders


def _not_decodable(method: str, path: str, coding: str, exc: Exception | str) -> HubTransportError:
    return HubTransportError(method, path, f"body not decodable as {coding!r}: {exc}")


class _Decoder:
    """Undoes one coding; output in pieces of at most about ``CHUNK`` (a bomb is never whole)."""

    coding: str

    def feed(self, data: bytes) -> Iterator[bytes]:
        raise NotImplementedError

    def finished(self) -> bool:
        """The stream has reached its end marker (and checksum)."""
        raise NotImplementedError


class _Zlib(_Decoder):
    """gzip (``members``: one member after another, RFC 1952 §2.2) or zlib-wrapped deflate."""

    def __init__(self, coding: str, wbits: int, method: str, path: str, *, members: bool = False):
        self.coding, self._wbits, self._members = coding, wbits, members
        self._where = (method, path)
        self._obj = zlib.decompressobj(wbits)
        self._pending = False  # the last output filled CHUNK: more may be held back

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data or self._pending:
            if self._obj.eof:
                if not self._members:
                    raise _not_decodable(*self._where, self.coding, "data after the end of the stream")
                self._obj = zlib.decompressobj(self._wbits)  # the next member
            try:
                out = self._obj.decompress(data, CHUNK)
            except zlib.error as exc:
                raise _not_decodable(*self._where, self.coding, exc) from None
            self._pending = not self._obj.eof and len(out) == CHUNK
            data = self._obj.unused_data if self._obj.eof else self._obj.unconsumed_tail
            if out:
                yield out

    def finished(self) -> bool:
        return self._obj.eof


class _Deflate(_Decoder):
    """zlib-wrapped deflate, or raw deflate as some servers send it (told by the first 2 bytes)."""

    coding = "deflate"

    def __init__(self, method: str, path: str):
        self._where = (method, path)
        self._inner: _Zlib | None = None
        self._start = b""  # the first bytes, until there are 2 to tell

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inner is None:
            self._start += data
            if len(self._start) < 2:
                return
            wrapped = self._start[0] & 0x0F == 8 and int.from_bytes(self._start[:2]) % 31 == 0
            self._inner = _Zlib("deflate", zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, *self._where)
            data, self._start = self._start, b""
        yield from self._inner.feed(data)

    def finished(self) -> bool:
        return self._inner is not None and self._inner.finished()


class _Brotli(_Decoder):
    coding = "br"

    def __init__(self, method: str, path: str):
        self._where = (method, path)
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data and self._obj.is_finished():
            raise _not_decodable(*self._where, "br", "data after the end of the stream")
        try:
            out = self._obj.process(data, output_buffer_limit=CHUNK)
            while out:  # a full buffer may leave output held back, input taken or not
                yield out
                if len(out) < CHUNK and self._obj.can_accept_more_data():
                    break
                out = self._obj.process(b"", output_buffer_limit=CHUNK)
        except brotli.error as exc:
            raise _not_decodable(*self._where, "br", exc) from None

    def finished(self) -> bool:
        return self._obj.is_finished()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _location(value: str | None) -> str | None:
    """Where a redirect pointed, without credentials, query or fragment (they may carry secrets)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    host = parts.netloc.rpartition("@")[2]  # never user:password@
    where = f"{parts.scheme}://{host}{parts.path}" if host else parts.path
    return "".join(c if c.isprintable() else "?" for c in where)[:200] or None


def _error_body(body: bytes) -> tuple[int | None, str | None]:
    try:
        parsed = ErrorBody.model_validate(json.loads(body or b"{}"))
    except (ValueError, ValidationError):
        return None, None
    return parsed.codiError, parsed.descripcioError
