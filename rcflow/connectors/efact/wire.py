"""``http.client`` connections whose answers' header blocks are read without the ``email`` package.

``http.client`` hands every header block to ``email.parser`` (a feed parser, a policy, a
``Message``): about 40 µs of CPU per answer on this machine, several times the cost of the rest
of reading the status line and headers, and the sync reads six answers per invoice. Here the
block is read line by line with the same limits (line length, header count) into a small list of
fields; the status line, the body (length, chunked, close) and every check after it are
``http.client``'s own.

Fields are kept in order with their names lower-cased; a folded line (obsolete, still read)
continues the previous value after one space; a line that is not ``name: value`` is skipped.
"""

from __future__ import annotations

import http.client
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


class Connection(http.client.HTTPConnection):
    response_class = Response


class SecureConnection(http.client.HTTPSConnection):
    response_class = Response
