"""HTTP/1.1 on asyncio: one keep-alive connection per request in flight, all in the event loop.

Every request of the client is sent and read by the event loop's one thread: no thread per
connection, so no thread waits for the GIL to read an answer that has arrived. Measured against
the same client logic in 16 threads (``bench/HISTORY.md``, eleventh round), this is where most of
the CPU per invoice went.

The framing is ``http.client``'s, with its exceptions and limits: a status line (any ``1xx`` is
skipped with its header block; ``HTTP/1.0`` and ``1.1`` only), a header block (line length and
count limits, names lower-cased, a folded line continuing the previous value, a line that is not
``name: value`` skipped), and a body by ``Content-Length``, chunked, or up to the close; a
``HEAD``, ``204``, ``304`` or ``1xx`` has none. A request goes out in one write, with the bytes
``HTTPConnection.request`` would send.

Stricter than ``http.client`` where it would hand on a body that is not the one sent (the caller
stores it): ``Content-Length`` fields that disagree or are not digits, and a ``Transfer-Encoding``
whose final coding is not ``chunked`` (or that names ``chunked`` twice, or a coding rcflow cannot
undo), raise ``FramingError`` (RFC 9112 §6.1, §6.3). With ``chunked`` last, the codings before it
(gzip, deflate: RFC 9112 §7) are in ``Head.codings`` for the caller to undo after the chunking.
A chunk size must be hex digits only (``-1``, ``0x10``, ``1_0`` are an ``IncompleteRead``); bytes
already there past the body's end are a ``FramingError`` (a longer answer than announced); a
connection reset (not a clean close) before the end of a body read up to the close raises the
reset's error, as ``http.client`` does.

Reads end at a caller's deadline (``rcflow.connectors.deadline``): ``timeout`` to the headers,
extended as body bytes arrive at ``MIN_BODY_RATE`` or faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import re
import select
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from rcflow.connectors.deadline import Deadline

MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
# Reading pauses while this much is buffered and unread (a fast hub, a slow disk).
HIGH_WATER = 4 * 1024 * 1024
INBOX = 64 * 1024  # what one read of the socket takes at most
_EXPECTS_BODY = frozenset({"PATCH", "POST", "PUT"})  # http.client's _METHODS_EXPECTING_BODY
_BAD_TARGET = re.compile("[\x00-\x20\x7f]")  # http.client's _contains_disallowed_url_pchar_re
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_DIGITS = re.compile(r"[0-9]+")
# Transfer codings that may come before the final ``chunked`` (undone by the caller).
TRANSFER_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})


class FramingError(http.client.HTTPException):
    """An answer whose body cannot be delimited or decoded safely (RFC 9112 §6.3: unrecoverable)."""


class Fields:
    """A header block: ``get`` (the first field of that name, any case) and ``items`` (every
    field, in order, names lower-cased)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]):
        self._fields = fields

    def get(self, name: str, default: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key == name:
                return value
        return default

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)


def add_field(fields: list[tuple[str, str]], line: bytes) -> None:
    """One header line into ``fields`` (http.client's reading: see the module's docstring)."""
    text = line.decode("iso-8859-1")
    if text[0] in " \t":
        if fields:  # obs-fold: the previous field goes on
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}".strip())
        return
    name, colon, value = text.partition(":")
    if colon and name and name == name.rstrip():
        fields.append((name.lower(), value.strip()))


@dataclass(frozen=True)
class Head:
    """A response's status line and header block, and how its body is framed."""

    status: int
    reason: str
    fields: Fields
    chunked: bool
    length: int | None  # None: up to the close (or chunked)
    will_close: bool
    codings: tuple[str, ...] = ()  # transfer codings before the final chunked, in applied order


def request_bytes(host_field: bytes, method: str, target: str, fields: bytes, body: bytes | None) -> bytes:
    """What ``HTTPConnection.request(method, target, body, headers)`` sends, as one write.

    ``fields`` are the caller's header lines (``Name: value\\r\\n`` each, without Host,
    Accept-Encoding or Content-Length), in the order ``request`` would have sent them."""
    if _BAD_TARGET.search(target):
        raise http.client.InvalidURL(f"URL can't contain control characters. {target!r}")
    length = b""
    if body is not None:
        length = b"Content-Length: %d\r\n" % len(body)
    elif method in _EXPECTS_BODY:
        length = b"Content-Length: 0\r\n"
    return b"".join((method.encode("ascii"), b" ", target.encode("ascii"), b" HTTP/1.1\r\n",
                     host_field, b"Accept-Encoding: identity\r\n", length, fields, b"\r\n",
                     body or b""))  # fmt: skip


def host_field(host: str, port: int, default_port: int) -> bytes:
    """The Host line ``HTTPConnection.putrequest`` writes for ``host`` and ``port``."""
    try:
        name = host.encode("ascii")
    except UnicodeEncodeError:
        name = host.encode("idna")
    if ":" in host:  # an IPv6 literal
        name = b"[" + name + b"]"
    if port == default_port:
        return b"Host: " + name + b"\r\n"
    return b"Host: %s:%d\r\n" % (name, port)


class Connection(asyncio.BufferedProtocol):
    """One keep-alive connection: bytes in a buffer, read by one exchange at a time.

    The loop reads into the connection's own ``_inbox`` (``BufferedProtocol``): asyncio's own loop
    otherwise makes a 256 KiB object for every read, which the C library maps and unmaps
    from the kernel each time (three system calls and fresh pages per read)."""

    def __init__(self) -> None:
        self._inbox = memoryview(bytearray(INBOX))
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False  # the hub closed its side, or the connection is gone
        self._lost: Exception | None = None  # why it is gone, if not a clean close (a reset)
        self._paused = False

    @classmethod
    async def open(
        cls, host: str, port: int, *, context: ssl.SSLContext | None, timeout: float
    ) -> Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            _, conn = await loop.create_connection(
                cls, host, port, ssl=context, server_hostname=host if context is not None else None
            )
        return conn

    # ------------------------------------------------------------------ asyncio.BufferedProtocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._inbox

    def buffer_updated(self, nbytes: int) -> None:
        self._buffer += self._inbox[:nbytes]
        if len(self._buffer) > HIGH_WATER and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._ended = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._lost = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # ------------------------------------------------------------------ use

    @property
    def reusable(self) -> bool:
        """Idle and open: the hub has neither closed it nor sent anything since the last answer,
        not even in bytes the event loop has yet to read (a close just arrived: one ``poll``)."""
        transport = self._transport
        if self._ended or self._buffer or transport is None or transport.is_closing():
            return False
        sock = transport.get_extra_info("socket")
        if sock is None:
            return True
        try:
            poller = select.poll()  # not select(): no limit on the descriptor's number
            poller.register(sock.fileno(), select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def send(self, data: bytes) -> None:
        if self._transport is None or self._ended or self._transport.is_closing():
            raise http.client.RemoteDisconnected("the connection was closed before the request")
        self._transport.write(data)

    def close(self) -> None:
        transport = self._transport
        if transport is not None:
            try:
                transport.abort()
            except RuntimeError:  # its event loop is closed: end the connection for the hub at least
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
        self._ended = True

    async def read_head(self, deadline: Deadline, method: str) -> Head:
        """The status line and header block (after any ``1xx``), as ``http.client`` reads them."""
        while True:
            line = await self._line(deadline)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("status line")
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            version, status, reason = _status_line(line)
            fields = await self._fields(deadline)
            if not 100 <= status < 200:
                break
        if version == "HTTP/1.0":
            keep_alive = fields.get("keep-alive") or "keep-alive" in (fields.get("connection") or "").lower()
            will_close = not keep_alive
        elif version.startswith("HTTP/1."):
            will_close = "close" in (fields.get("connection") or "").lower()
        else:
            raise http.client.UnknownProtocol(version)
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or method == "HEAD":
            return Head(status, reason.strip(), fields, False, 0, will_close)
        codings = _transfer_codings(fields)
        chunked = codings is not None
        length = None if chunked else _content_length(fields)
        if not will_close and not chunked and length is None:
            will_close = True
        return Head(status, reason.strip(), fields, chunked, length, will_close, tuple(codings or ()))

    async def body(self, head: Head, deadline: Deadline, size: int) -> AsyncIterator[bytes]:
        """The body's raw bytes in pieces of at most ``size``; ``deadline.received`` counts them.

        Raises ``http.client.IncompleteRead`` when the connection ends before the announced end,
        and ``FramingError`` when bytes have already come after it (nothing is pipelined: the
        answer was longer than it said)."""
        if head.chunked:
            async for piece in self._chunked(deadline, size):
                yield piece
        else:
            async for piece in self._delimited(head.length, deadline, size):
                yield piece
        if self._buffer:
            raise FramingError(f"{len(self._buffer)} bytes past the announced end of the body")

    async def _delimited(self, left: int | None, deadline: Deadline, size: int) -> AsyncIterator[bytes]:
        """``left`` bytes, or up to a clean close (None)."""
        while left is None or left > 0:
            piece = await self._some(deadline, size if left is None else min(size, left))
            if not piece:
                if left is not None:
                    raise http.client.IncompleteRead(b"", left)
                if self._lost is not None:  # a reset is not the end of the body
                    raise self._lost
                return
            if left is not None:
                left -= len(piece)
            yield piece

    # ------------------------------------------------------------------ reading

    async def _fill(self, deadline: Deadline) -> bool:
        """Wait for more bytes: False once the connection has ended; ``TimeoutError`` at the deadline."""
        if self._ended:
            return False
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        left = deadline.left()
        if left <= 0:
            raise TimeoutError
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(left, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return True

    async def _line(self, deadline: Deadline) -> bytes:
        """Up to and including the next LF, at most ``MAX_LINE + 1`` bytes; short at the end."""
        while True:
            end = self._buffer.find(b"\n", 0, MAX_LINE + 1)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) > MAX_LINE:
                return self._take(MAX_LINE + 1)
            if not await self._fill(deadline):
                return self._take(len(self._buffer))

    async def _some(self, deadline: Deadline, size: int) -> bytes:
        while not self._buffer:
            if not await self._fill(deadline):
                return b""
        piece = self._take(min(size, len(self._buffer)))
        deadline.received += len(piece)
        return piece

    def _take(self, n: int) -> bytes:
        piece = bytes(self._buffer[:n])
        del self._buffer[:n]
        return piece

    async def _fields(self, deadline: Deadline) -> Fields:
        fields: list[tuple[str, str]] = []
        lines = 0
        while True:
            line = await self._line(deadline)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("header line")
            if line in (b"\r\n", b"\n", b""):
                return Fields(fields)
            lines += 1
            if lines > MAX_HEADERS:
                raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
            add_field(fields, line)

    async def _chunked(self, deadline: Deadline, size: int) -> AsyncIterator[bytes]:
        while True:
            line = await self._line(deadline)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("chunk size")
            digits = line.split(b";", 1)[0].strip(b" \t\r\n")
            if not _HEX.fullmatch(digits):  # int() would take "-1", "+5", "0x10", "1_0"
                raise http.client.IncompleteRead(b"")
            left = int(digits, 16)
            if left == 0:
                while (trailer := await self._line(deadline)) not in (b"\r\n", b"\n", b""):
                    if len(trailer) > MAX_LINE:
                        raise http.client.LineTooLong("trailer line")
                return
            while left > 0:
                piece = await self._some(deadline, min(size, left))
                if not piece:
                    raise http.client.IncompleteRead(b"", left)
                left -= len(piece)
                yield piece
            if await self._line(deadline) not in (b"\r\n", b"\n"):
                raise http.client.IncompleteRead(b"")


def _transfer_codings(fields: Fields) -> list[str] | None:
    """The transfer codings before a final ``chunked`` (None: no Transfer-Encoding)."""
    codings = _listed(fields, "transfer-encoding")
    if codings is None:
        return None
    codings = [c.lower() for c in codings]
    if not codings or codings[-1] != "chunked" or "chunked" in codings[:-1]:
        raise FramingError(
            f"Transfer-Encoding {_shown(', '.join(codings))!r}: chunked is not the final coding"
        )
    if unknown := [c for c in codings[:-1] if c not in TRANSFER_CODINGS]:
        raise FramingError(f"Transfer-Encoding {_shown(', '.join(unknown))!r} cannot be decoded")
    return codings[:-1]


def _content_length(fields: Fields) -> int | None:
    """The one length every Content-Length field says (None: none sent)."""
    values = _listed(fields, "content-length")
    if values is None:
        return None
    if len(set(values)) != 1 or not _DIGITS.fullmatch(values[0]):
        raise FramingError(f"Content-Length {_shown(', '.join(values))!r}: not one length")
    return int(values[0])


def _listed(fields: Fields, name: str) -> list[str] | None:
    """The comma-separated members of every ``name`` field, in order (None: no such field)."""
    values = [value for key, value in fields.items() if key == name]
    if not values:
        return None
    return [member.strip() for value in values for member in value.split(",") if member.strip()]


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:80]


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _status_line(line: bytes) -> tuple[str, int, str]:
    """``http.client``'s reading of a status line."""
    text = line.decode("iso-8859-1")
    try:
        version, status, reason = text.split(None, 2)
    except ValueError:
        try:
            version, status = text.split(None, 1)
            reason = ""
        except ValueError:
            version = ""
    if not version.startswith("HTTP/"):
        raise http.client.BadStatusLine(text)
    try:
        code = int(status)
    except ValueError:
        raise http.client.BadStatusLine(text) from None
    if not 100 <= code <= 999:
        raise http.client.BadStatusLine(text)
    return version, code, reason
