"""``http.client`` connections whose answers' header blocks are read without the ``email`` package.

``http.client`` hands every header block to ``email.parser`` (a feed parser, a policy, a
``Message``): about 40 µs of CPU per answer on this machine, several times the cost of the rest
of reading the status line and headers, and the sync reads six answers per invoice. Here the
block is read line by line with the same limits (line length, header count) into a small list of
fields; the status line, the body (length, chunked, close) and every check after it are
``http.client``'s own.

Requests go out through ``send_request``: the bytes ``HTTPConnection.request`` would send (same
lines, same order), built in one join and written with one ``sendall``, body included.
``request`` validates and appends each header line in turn (~25 µs of CPU per request here) and
sends a body in a second write; the caller's header lines are constants and values it made.

Fields are kept in order with their names lower-cased; a folded line (obsolete, still read)
continues the previous value after one space; a line that is not ``name: value`` is skipped.
"""

from __future__ import annotations

import http.client
import re
from typing import Any

MAX_LINE = 65536  # http.client's _MAXLINE
MAX_HEADERS = 100  # http.client's _MAXHEADERS
_END = (b"\r\n", b"\n", b"")


class Fields:
    """A header block as ``http.client`` uses its message: ``get`` (first field of that name,
    any case) and ``items`` (every field, in order, names lower-cased)."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]):
        self._fields = fields

    def get(self, name: str, default: Any = None) -> Any:
        name = name.lower()
        for key, value in self._fields:
            if key == name:
                return value
        return default

    def get_all(self, name: str, default: Any = None) -> Any:
        name = name.lower()
        found = [value for key, value in self._fields if key == name]
        return found or default

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(key for key, _ in self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


def read_fields(fp: Any) -> Fields:
    """The header block from ``fp`` up to its blank line (``http.client``'s limits)."""
    fields: list[tuple[str, str]] = []
    lines = 0
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in _END:
            return Fields(fields)
        lines += 1
        if lines > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        text = line.decode("iso-8859-1")
        if text[0] in " \t":
            if fields:  # obs-fold: the previous field goes on
                name, value = fields[-1]
                fields[-1] = (name, f"{value} {text.strip()}".strip())
            continue
        name, colon, value = text.partition(":")
        if colon and name and name == name.rstrip():
            fields.append((name.lower(), value.strip()))


class Response(http.client.HTTPResponse):
    """``HTTPResponse`` with ``begin`` reading the header block through :func:`read_fields`."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:  # skip any 100 Continue (and its header block)
            version, status, reason = self._read_status()  # type: ignore[attr-defined]
            if status != http.client.CONTINUE:
                break
            read_fields(self.fp)
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_fields(self.fp)  # type: ignore[assignment]
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        self.chunk_left = None
        self.will_close = self._check_close()  # type: ignore[attr-defined]
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 \
                or self._method == "HEAD":  # type: ignore[attr-defined]  # fmt: skip
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


_EXPECTS_BODY = frozenset({"PATCH", "POST", "PUT"})  # http.client's _METHODS_EXPECTING_BODY
_BAD_TARGET = re.compile("[\x00-\x20\x7f]")  # http.client's _contains_disallowed_url_pchar_re


class _OneWrite:
    """``send_request``, for an ``HTTPConnection`` subclass (uses its private request state)."""

    _host_field: bytes | None = None

    def send_request(self: Any, method: str, target: str, fields: bytes, body: bytes | None = None) -> None:
        """Send what ``request(method, target, body, headers)`` would, in one write.

        ``fields`` are the caller's header lines (``Name: value\r\n`` each, without Host,
        Accept-Encoding or Content-Length), in the order ``request`` would have sent them."""
        if self._tunnel_host:  # never set by the hub client; http.client's own path then
            raise http.client.HTTPException("send_request does not tunnel")
        response = self._HTTPConnection__response
        if response is not None and response.isclosed():
            self._HTTPConnection__response = response = None
        if self._HTTPConnection__state != http.client._CS_IDLE or response is not None:
            raise http.client.CannotSendRequest(self._HTTPConnection__state)
        if _BAD_TARGET.search(target):
            raise http.client.InvalidURL(f"URL can't contain control characters. {target!r}")
        self._HTTPConnection__state = http.client._CS_REQ_SENT
        self._method = method
        if self._host_field is None:
            self._host_field = _host_field(self.host, self.port, self.default_port)
        length = b""
        if body is not None:
            length = b"Content-Length: %d\r\n" % len(body)
        elif method in _EXPECTS_BODY:
            length = b"Content-Length: 0\r\n"
        request = b"".join((method.encode("ascii"), b" ", target.encode("ascii"), b" HTTP/1.1\r\n",
                            self._host_field, b"Accept-Encoding: identity\r\n", length, fields, b"\r\n",
                            body or b""))  # fmt: skip
        if self.sock is None:
            self.connect()
        self.sock.sendall(request)


def _host_field(host: str, port: int, default_port: int) -> bytes:
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


class Connection(_OneWrite, http.client.HTTPConnection):
    response_class = Response


class SecureConnection(_OneWrite, http.client.HTTPSConnection):
    response_class = Response
