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


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobWriter:
    """Incremental writer for one blob; ``commit()`` makes it durable, ``abort()`` discards it."""

    def __init__(self, store: BlobStore):
        self._store = store
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="blob-")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._hash = hashlib.sha256()
        self._size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._hash.update(chunk)
        self._size += len(chunk)

    def commit(self) -> StoredBlob:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        target = self._store.path_for(digest)
        if target.exists():
            self._tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, target)
            _fsync_dir(target.parent)
        return StoredBlob(digest, self._size)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
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
