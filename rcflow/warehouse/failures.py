"""The storage failures an operator must act on, found at the root of an exception chain.

A failing DuckDB session rarely fails with its cause: a checksum error is followed by
"Current transaction is aborted", a full disk surfaces as "Failed to create checkpoint". Python
keeps the earlier errors as ``__context__``/``__cause__``; :func:`storage_failure` walks that chain
from its root (the first error) and names the cause: a full disk, a file system that cannot be
written, or a corrupt database file, with the path concerned.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb


class Storage(StrEnum):
    disk_full = "disk_full"
    not_writable = "not_writable"
    corrupt = "corrupt"


_ADVICE = {
    Storage.disk_full: "free space there and re-run",
    Storage.not_writable: "make it writable (or point RCFLOW_WAREHOUSE elsewhere) and re-run",
    Storage.corrupt: "restore it from a backup; readers keep the last good snapshot",
}
_DUCKDB_TEXT = (
    (Storage.disk_full, ("no space left on device", "disk quota exceeded")),
    (Storage.not_writable, ("read-only file system", "permission denied")),
    (Storage.corrupt, ("corrupt database file", "checksum", "not a valid duckdb database file")),
)
_ERRNOS = {
    errno.ENOSPC: Storage.disk_full,
    errno.EDQUOT: Storage.disk_full,
    errno.EROFS: Storage.not_writable,
}
_QUOTED_PATH = re.compile(r'"(/[^"]+)"')


@dataclass(eq=False)
class StorageFailure(Exception):
    """Local storage failed; ``str()`` is the one line the operator sees."""

    kind: Storage
    path: Path | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.path}" if self.path else "the warehouse"
        what = {
            Storage.disk_full: f"disk full: cannot write {where} ({self.detail})",
            Storage.not_writable: f"cannot write {where}: {self.detail}",
            Storage.corrupt: f"corrupt database file {where} ({self.detail})",
        }[self.kind]
        advice = _ADVICE[self.kind]
        if self.kind is Storage.corrupt and self.path and self.path.name.endswith(".snapshot.duckdb"):
            advice = "delete it: the next run (or reader, when no writer runs) publishes a new one"
        return f"{what}; {advice}"


# OSErrors raised by a connection (a hub, a signing service), never by the warehouse's files.
_NETWORK_ERRORS = (ssl.SSLError, ssl.CertificateError, ConnectionError, TimeoutError, socket.gaierror,
                   socket.herror)  # fmt: skip


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the errors it was raised during or from, root (first error) first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen[::-1]


def storage_failure(exc: BaseException, *, database: Path | None = None) -> StorageFailure | None:
    """The first storage failure in ``exc``'s chain, or None.

    ``database`` is the DuckDB file the session had open: it names a corrupt file, and a
    permission error counts only for files in its folder (not, say, an input file we only read).
    """
    for error in chain(exc):
        if isinstance(error, StorageFailure):
            return error
        found = _classify(error, database)
        if found is not None:
            return found
    return None


def storage_failure_in_text(text: str, *, folder: Path | None = None) -> StorageFailure | None:
    """A storage failure described in text only (a worker process's error comes back as text);
    ``folder`` is named when the text names no file."""
    lowered = text.lower()
    for kind, needles in _DUCKDB_TEXT[:2]:
        if any(n in lowered for n in needles):
            quoted = re.search(r"""['"](/[^'"]+)['"]""", text)
            return StorageFailure(kind, Path(quoted.group(1)) if quoted else folder, _detail(kind, text))
    return None


def _classify(error: BaseException, database: Path | None) -> StorageFailure | None:
    if isinstance(error, _NETWORK_ERRORS):
        # OSErrors of a connection, not of a file: an SSLError's errno 1 (SSL_ERROR_SSL) is
        # EPERM's, and a hub's TLS failure read as "cannot write the warehouse's folder".
        return None
    if isinstance(error, OSError) and not isinstance(error, duckdb.Error):
        # A blob being written has no name yet: name the folder the warehouse and its store share.
        path = Path(error.filename) if error.filename else (database.parent if database else None)
        detail = (error.strerror or str(error)).lower()
        if error.errno in _ERRNOS:
            return StorageFailure(_ERRNOS[error.errno], path, detail)
        if error.errno in {errno.EACCES, errno.EPERM} and path and database and _inside(path, database):
            return StorageFailure(Storage.not_writable, path, detail)
        return None
    if isinstance(error, duckdb.Error):
        text = str(error)
        lowered = text.lower()
        for kind, needles in _DUCKDB_TEXT:
            if any(n in lowered for n in needles):
                quoted = _QUOTED_PATH.search(text)
                path = Path(quoted.group(1)) if quoted else database
                return StorageFailure(kind, path, _detail(kind, text))
    return None


def _detail(kind: Storage, text: str) -> str:
    if kind is Storage.disk_full:
        return "no space left on device"
    if kind is Storage.not_writable:
        return "read-only file system" if "read-only" in text.lower() else "permission denied"
    first = text.strip().splitlines()[0] if text.strip() else "unreadable"
    first = first.split("Error: ", 1)[-1]
    if first.lower().startswith("corrupt database file:"):
        first = first.split(":", 1)[1].strip()
    return first[:200]


def _inside(path: Path, database: Path) -> bool:
    try:
        path.resolve().relative_to(database.resolve().parent)
    except ValueError:
        return False
    return True
