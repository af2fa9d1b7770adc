"""The one place eFACT requests are sent: connections, token, rate limit, deadlines, retries, errors.

Blocking and thread-safe: each thread keeps one keep-alive ``http.client`` connection (so the
number of threads calling is the number of connections). The standard library's client costs
about a fifth of the CPU per request of httpx + httpcore + anyio on this machine (measured in
``bench/HISTORY.md``, "Earlier rounds"), and the sync is CPU-bound at low latency.

Rules kept here and nowhere else:

* only a 2xx is an answer; a redirect is an error naming where it pointed (never followed);
* retried: transport errors, timeouts, 5xx, 429 (after its ``Retry-After``, which pauses every
  thread; too long a wait is not retried), 401 1008/1009 after re-signing the token (the hub's
  ``Date`` teaches the clock offset); PATCH/DELETE are sent once (``retry=False``);
* every attempt has an overall deadline: ``timeout`` to the headers, extended only as the body
  arrives at ``MIN_BODY_RATE`` or faster, so a dripping body fails in about ``timeout`` seconds
  (a read may end up to ``DEADLINE_SLACK`` of the timeout after the deadline, never before);
* a body is decoded as the transport encoded it (identity is asked for; gzip, deflate and br are
  undone) and must be as long as announced.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import logging
import random
import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import brotli
import stamina
from pydantic import ValidationError

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
from rcflow.connectors.efact.wire import Connection, SecureConnection

log = logging.getLogger("rcflow.connectors.efact")

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
RETRY_WAIT_INITIAL = 0.2
RETRY_WAIT_MAX = 5.0
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
MIN_BODY_RATE = 64 * 1024  # bytes/s: a body arriving slower than this overall is a stalled one
DEADLINE_SLACK = 0.05  # of the timeout: how late after its deadline a read may end
MAX_RETRY_AFTER = 120.0  # a 429 asking for a longer wait defers the work to the next run
CHUNK = 64 * 1024
USER_AGENT = "rcflow/0.1 (+eFACT RCF integration)"
# Header lines after User-Agent and Authorization (``wire.Connection.send_request`` adds Host,
# ``Accept-Encoding: identity`` and Content-Length: documents are asked for as they are, and a
# front that compresses anyway is decoded).
JSON_FIELDS = b"Accept: application/json\r\n"
DOWNLOAD_FIELDS = b"Accept: */*\r\n"
_BODY_FIELDS = b"Content-Type: application/json\r\n"
_AGENT_FIELD = f"User-Agent: {USER_AGENT}\r\n".encode("ascii")

T = TypeVar("T")
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*)*")


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    log.debug("retry %d of %s in %.2f s: %r", details.retry_num, details.name, details.wait_for,
              details.caused_by)  # fmt: skip


# Retries are counted in every run's summary; each one is a DEBUG line of rcflow's log, not
# stamina's default WARNING.
stamina.instrumentation.set_on_retry_hooks([_log_retry])


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
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (a 429's Retry-After applies to the whole client)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def wait(self) -> None:
        if self._paused_until and (delay := self._paused_until - time.monotonic()) > 0:
            time.sleep(delay)
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


class _SinkFailed(Exception):
    """Writing a downloaded chunk failed (a full disk): raised as the ``OSError`` it wraps."""


class _Deadline:
    """One attempt's overall deadline: ``timeout`` to the headers, extended as body bytes arrive.

    A read may end up to ``slack`` (``DEADLINE_SLACK`` of the timeout) after it (see
    ``_bound_reads``)."""

    __slots__ = ("received", "slack", "start", "timeout")

    def __init__(self, timeout: float):
        self.start, self.timeout, self.received = time.monotonic(), timeout, 0
        self.slack = timeout * DEADLINE_SLACK

    def left(self) -> float:
        return self.start + self.timeout + self.received / MIN_BODY_RATE - time.monotonic()


class Http:
    """Blocking, thread-safe requests to one hub (one keep-alive connection per thread)."""

    def __init__(
        self,
        base_url: str,
        signer: JwtSigner,
        *,
        rate_limit: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/") + "/"
        self.signer = signer
        self.timeout = timeout
        self.max_retries = max_retries
        self.stats = ClientStats()
        self.limiter = RateLimiter(rate_limit)
        self._ssl = ssl.create_default_context() if self.https else None
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._auth_line: tuple[str | None, bytes] = (None, b"")
        self.stopped = False

    def stop(self) -> None:
        """Refuse new requests and wake the threads blocked reading (their calls fail at once)."""
        with self._lock:
            self.stopped = True
            for conn in self._all:
                if conn.sock is not None:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Close every connection (once no thread uses them)."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    # ------------------------------------------------------------------ public

    def json(self, method: str, path: str, *, params: dict[str, str] | None = None,
             body: dict[str, str] | None = None, retry: bool = True) -> Answer:  # fmt: skip
        """A JSON call; raises the typed error of anything but a 2xx."""
        payload = json.dumps(body).encode() if body is not None else None
        target = path + ("?" + urlencode(params) if params else "")

        def once() -> Answer:
            answer = self._exchange(method, target, payload, JSON_FIELDS, None, MAX_JSON_BYTES)
            self._raise_for_status(method, path, answer)
            return answer

        return self.retrying(once) if retry else once()

    def download(self, path: str, sink: Callable[[bytes], None]) -> Answer:
        """One GET attempt streaming a 2xx body, decoded, into ``sink`` (the caller retries)."""
        answer = self._exchange("GET", path, None, DOWNLOAD_FIELDS, sink, None)
        self._raise_for_status("GET", path, answer)
        return answer

    def retrying(self, once: Callable[[], T]) -> T:
        """``once()``, retried as the policy says (fast path: most calls succeed first time)."""
        try:
            return once()
        except Exception as exc:
            wait = self._retry_wait(exc) if self.max_retries > 0 else False
            if wait is False:
                raise
        time.sleep(RETRY_WAIT_INITIAL * (1 + random.random()) if wait is True else wait)
        for attempt in stamina.retry_context(
            on=self._retry_wait,
            attempts=self.max_retries,
            timeout=None,
            wait_initial=RETRY_WAIT_INITIAL,
            wait_max=RETRY_WAIT_MAX,
            wait_jitter=RETRY_WAIT_INITIAL,
        ):
            with attempt:
                with self._lock:
                    self.stats.retries += 1
                return once()
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ machinery

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None and _closed_by_peer(conn.sock):
            conn.close()  # an idle keep-alive the hub closed: reconnect rather than fail
        if conn is None:
            if self._ssl is not None:
                conn = SecureConnection(self.host, self.port, timeout=self.timeout, context=self._ssl)
            else:
                conn = Connection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _exchange(
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
        self.limiter.wait()
        conn = self._connection()
        fields = b"".join((_AGENT_FIELD, self._authorization(), extra,
                           _BODY_FIELDS if payload is not None else b""))  # fmt: skip
        deadline = _Deadline(self.timeout)
        try:
            conn.timeout = self.timeout
            if conn.sock is not None:
                _bound_reads(conn.sock, deadline)
            conn.send_request(method, self.prefix + target, fields, payload)
            response = conn.getresponse()
            status = response.status
            names = dict(response.getheaders())  # names lower-cased (wire.Fields)
            ok = 200 <= status < 300
            if ok and sink is not None:
                if problem := encoding_problem(names.get("content-encoding")):
                    raise HubNotDocument(method, path, problem)
                body = b""
                for chunk in _decoded(response, names, conn, deadline, method, path, None):
                    try:
                        sink(chunk)
                    except OSError as exc:  # the disk's failure, not the hub's: never retried
                        raise _SinkFailed from exc
            else:
                cap = limit if ok and limit is not None else MAX_ERROR_BODY
                body = b"".join(_decoded(response, names, conn, deadline, method, path, cap))
        except _SinkFailed as failed:
            conn.close()
            raise failed.__cause__ from None  # type: ignore[misc]
        except TimeoutError:
            conn.close()
            raise HubTimeout(method, path, f"no complete answer in time: stalled or slower than "
                             f"{MIN_BODY_RATE // 1024} KiB/s after {self.timeout:g} s, "
                             f"{deadline.received} bytes received") from None  # fmt: skip
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise HubTransportError(method, path, _reason(exc)) from None
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        with self._lock:
            self.stats.requests += 1
            self.stats.by_status[status] += 1
        return Answer(status, names, body)

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
            raise HubRateLimited(method, path, _retry_after(answer.headers.get("retry-after")))
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
            self.limiter.pause(wait)  # every thread waits, not just this request
            return wait
        return True


def _decoded(
    response: http.client.HTTPResponse,
    headers: dict[str, str],
    conn: http.client.HTTPConnection,
    deadline: _Deadline,
    method: str,
    path: str,
    limit: int | None,
) -> Iterator[bytes]:
    """The body, decoded, chunk by chunk, within the deadline; checks the announced length."""
    decoders = _decoders(headers.get("content-encoding"), method, path)
    size = 0
    while True:
        left = deadline.left()
        if left <= 0:
            raise TimeoutError
        if conn.sock is not None:
            _bound_reads(conn.sock, deadline, left)
        raw = response.read1(CHUNK)
        if not raw:
            break
        deadline.received += len(raw)
        for decoder in decoders:
            raw = decoder(raw)
        size += len(raw)
        if limit is not None and size > limit:
            raise HubProtocolError(method, path, f"answer larger than {limit} bytes")
        if raw:
            yield raw
        if response.length == 0:  # all the announced bytes are in: no read for the end
            break
    if response.length:  # http.client counts down Content-Length: bytes are missing
        got = deadline.received
        raise HubTransportError(method, path, f"body truncated: {got} of {got + response.length} bytes")
    response.close()


def _decoders(content_encoding: str | None, method: str, path: str) -> list[Callable[[bytes], bytes]]:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    decoders = []
    for coding in reversed(codings):  # the last coding applied is undone first
        if coding in ("gzip", "x-gzip"):
            decoders.append(_zlib(zlib.MAX_WBITS | 16, method, path))
        elif coding == "deflate":
            decoders.append(_deflate(method, path))
        elif coding == "br":
            decoders.append(_brotli(method, path))
    return decoders


def _not_decodable(method: str, path: str, coding: str, exc: Exception) -> HubTransportError:
    return HubTransportError(method, path, f"body not decodable as {coding!r}: {exc}")


def _zlib(wbits: int, method: str, path: str) -> Callable[[bytes], bytes]:
    obj = zlib.decompressobj(wbits)

    def decode(data: bytes) -> bytes:
        try:
            return obj.decompress(data)
        except zlib.error as exc:
            raise _not_decodable(method, path, "gzip", exc) from None

    return decode


def _deflate(method: str, path: str) -> Callable[[bytes], bytes]:
    """zlib-wrapped deflate, or raw deflate as some servers send it."""
    state: dict[str, Any] = {"obj": zlib.decompressobj(), "first": True}

    def decode(data: bytes) -> bytes:
        try:
            return state["obj"].decompress(data)
        except zlib.error as exc:
            if state["first"]:
                state["first"] = False
                state["obj"] = zlib.decompressobj(-zlib.MAX_WBITS)
                return decode(data)
            raise _not_decodable(method, path, "deflate", exc) from None
        finally:
            state["first"] = False

    return decode


def _brotli(method: str, path: str) -> Callable[[bytes], bytes]:
    obj = brotli.Decompressor()

    def decode(data: bytes) -> bytes:
        try:
            return obj.process(data)
        except brotli.error as exc:
            raise _not_decodable(method, path, "br", exc) from None

    return decode


def _bound_reads(sock: socket.socket, deadline: _Deadline, left: float | None = None) -> None:
    """Each read on ``sock`` ends by the deadline, at most ``deadline.slack`` after it, never before.

    ``settimeout`` is an ``ioctl`` that releases the GIL, a thread switch under contention: it is
    called only when the socket's timeout is outside [left, left + slack], and then set to its
    top, so a fast answer's reads never call it and a slow body calls it once per ``slack``."""
    left = deadline.left() if left is None else left
    current = sock.gettimeout()
    if current is None or current < left or current > left + deadline.slack:
        sock.settimeout(max(left, 0.0) + deadline.slack)


class _PollFd(ctypes.Structure):
    _fields_ = [("fd", ctypes.c_int), ("events", ctypes.c_short), ("revents", ctypes.c_short)]


def _gil_held_poll() -> Callable[[Any, int, int], int] | None:
    """libc's ``poll`` called without releasing the GIL (``ctypes.PyDLL``), or None where absent.

    A zero-timeout poll never blocks; releasing the GIL around it (as ``select.select`` does) only
    hands the GIL to another thread and back, two thread switches under contention, once per
    request."""
    try:
        poll = ctypes.PyDLL(None).poll
    except (OSError, AttributeError):
        return None
    poll.argtypes = [ctypes.POINTER(_PollFd), ctypes.c_ulong, ctypes.c_int]
    poll.restype = ctypes.c_int
    return poll


_POLL = _gil_held_poll()
_POLLIN = getattr(select, "POLLIN", 1)


def _closed_by_peer(sock: socket.socket) -> bool:
    """An idle connection is readable only if the peer closed it (or sent garbage)."""
    if _POLL is not None:
        fd = sock.fileno()
        if fd < 0:
            return True
        found = _POLL(ctypes.byref(_PollFd(fd, _POLLIN, 0)), 1, 0)
        if found >= 0:
            return found > 0
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


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


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_body(body: bytes) -> tuple[int | None, str | None]:
    try:
        parsed = ErrorBody.model_validate(json.loads(body or b"{}"))
    except (ValueError, ValidationError):
        return None, None
    return parsed.codiError, parsed.descripcioError
