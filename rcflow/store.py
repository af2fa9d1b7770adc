"""Content-addressed blob store (sha256) beside the warehouse.

Blobs are written to a temporary file, fsynced, then renamed to ``sha256/ab/cd/<digest>``, so a
blob is either fully present or absent. Names that came from the hub are data: they never become
paths here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


SPILL_BYTES = 4 * 1024 * 1024  # blobs smaller than this are kept in memory until commit


class BlobWriter:
    """Incremental writer for one blob; ``commit()`` makes it durable, ``abort()`` discards it.

    Small blobs stay in memory until ``commit()``, so all file work (create, write, fsync,
    rename) happens there, in one place a caller can move to a worker thread. Large ones spill
    to a temporary file as they arrive.
    """

    def __init__(self, store: BlobStore):
        self._store = store
        self._buffer = bytearray()
        self._file: BinaryIO | None = None
        self._tmp: Path | None = None
        self._hash = hashlib.sha256()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self._size += len(chunk)
        if self._file is None:
            self._buffer += chunk
            if len(self._buffer) > SPILL_BYTES:
                self._spill()
        else:
            self._file.write(chunk)

    def _spill(self) -> None:
        fd, name = tempfile.mkstemp(dir=self._store.tmp_dir, prefix="blob-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._file.write(self._buffer)
        self._buffer = bytearray()

    def commit(self) -> StoredBlob:
        digest = self._hash.hexdigest()
        target = self._store.path_for(digest)
        if target.exists():
            self.abort()
            return StoredBlob(digest, self._size)
        if self._file is None:
            self._spill()
        assert self._file is not None and self._tmp is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)
        _fsync_dir(target.parent)
        return StoredBlob(digest, self._size)

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def writer(self) -> BlobWriter:
        return BlobWriter(self)

    def put(self, data: bytes) -> StoredBlob:
        writer = self.writer()
        try:
            writer.write(data)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise

    def get(self, digest: str) -> bytes:
        return self.path_for(digest).read_bytes()

    def has(self, digest: str) -> bool:
        return self.path_for(digest).exists()
