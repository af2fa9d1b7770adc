"""Content-addressed blob store (sha256) beside the warehouse.

Blobs are written to a temporary file, fsynced, then renamed to ``sha256/ab/<digest>``, so a
blob is either fully present or absent. One level of 256 folders: a second level (``ab/cd/``,
65,536 folders, the layout before 2026-12) made a young store create a folder for nearly every
blob, and on ext4 a new folder costs more CPU than the file itself; blobs stored under that
older layout are still found and read where they are. A bulk writer (the sync) may commit with
``durable=False`` (no fsync per file: each costs ~6 ms and each directory fsync ~10 ms on ext4)
and then make a whole batch durable with one ``sync()`` (Linux ``syncfs``: one journal commit)
before anything refers to those blobs; after a crash before ``sync()``, a blob may be present but
short, which ``problem()`` detects and the next download replaces. That bulk path writes a small
blob with one create, one write and one rename, in folders the store remembers having made.
Names that came from the hub are data: they never become paths here.

A blob already at its path is trusted only after its size and hash are checked: a damaged one
(truncated or altered on disk) is replaced by the new, verified copy. Temporary files a killed
writer left in ``tmp/`` are removed when a store is next opened, once they are old enough that no
live writer can own them (see ``TMP_MAX_AGE``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import itertools
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


SPILL_BYTES = 4 * 1024 * 1024  # blobs smaller than this are kept in memory until commit
TMP_PREFIX = "blob-"
# A live writer's temp file grows as each chunk arrives, and the hub client's deadlines bound the
# gap between two chunks to well under a minute: a temp file untouched for an hour has no writer.
TMP_MAX_AGE = 3600.0
READ_CHUNK = 1024 * 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")
_TMP_NAMES = itertools.count()


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
        fd, name = tempfile.mkstemp(dir=self._store.tmp_dir, prefix=TMP_PREFIX)
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._file.write(self._buffer)
        self._buffer = bytearray()

    def in_memory(self) -> bytes | None:
        """The bytes written so far, when they are still held in memory (None once spilled)."""
        return bytes(self._buffer) if self._file is None else None

    def commit(self, *, durable: bool = True) -> StoredBlob:
        """The blob at its path; ``durable=False`` leaves the fsync to ``BlobStore.sync()``."""
        digest = self._hash.hexdigest()
        store = self._store
        # The bulk path looks only where blobs go now: a blob kept only under the older layout is
        # written again (a duplicate, the one read from then on), sparing each new blob a stat.
        if store.problem(digest, self._size, legacy=durable) is None:
            self.abort()  # already stored, and intact
            return StoredBlob(digest, self._size)
        # Absent, or damaged on disk: this verified copy replaces it (atomically).
        if not durable:
            self._commit_unsynced(digest)
            return StoredBlob(digest, self._size)
        target = Path(store.location(digest))
        if self._file is None:
            self._spill()
        assert self._file is not None and self._tmp is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        new_dirs = [d for d in (target.parent.parent, target.parent) if not d.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)
        for folder in [target.parent, *(d.parent for d in new_dirs)]:
            _fsync_dir(folder)
        return StoredBlob(digest, self._size)

    def _commit_unsynced(self, digest: str) -> None:
        """Write and rename without fsync (the bulk path: ``BlobStore.sync()`` follows); plain
        ``os`` calls on strings and folders known to exist, as this runs once per blob."""
        store = self._store
        target = store.location(digest)
        if self._file is None:  # small: one create, one write, one close
            tmp = os.path.join(store.tmp_name, f"{TMP_PREFIX}{os.getpid()}-{next(_TMP_NAMES)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                try:
                    _write_all(fd, self._buffer)
                finally:
                    os.close(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            self._buffer = bytearray()
        else:
            assert self._tmp is not None
            self._file.close()
            tmp = str(self._tmp)
        try:
            store.move_in(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        store.unsynced_add(target)

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    """Every byte of ``data`` to ``fd`` with plain ``os.write`` calls: a file object over the
    descriptor would add an fstat, an ioctl and an lseek (each releasing the GIL) per blob."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """Linux ``syncfs(fd)``: flush one file system at once (None where there is none)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True).syncfs
    except (OSError, AttributeError, TypeError):
        return None


_SYNCFS = _syncfs()


class BlobStore:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.swept = self.sweep_tmp()
        self.tmp_name = str(self.tmp_dir)
        self._blobs = str(self.root / "sha256")
        self._unsynced: list[str] = []  # blobs committed with durable=False, not yet synced
        self._folders: set[str] = set()  # blob folders known to exist (made by this store)
        self._lock = threading.Lock()
        # Held for a whole flush: a second caller returns only once the blobs it saw are durable.
        self._sync_lock = threading.Lock()

    def unsynced_add(self, path: str) -> None:
        with self._lock:
            self._unsynced.append(path)

    def move_in(self, tmp: str, target: str) -> None:
        """Rename ``tmp`` to ``target``, making its folder unless this store already made it."""
        folder = os.path.dirname(target)
        if folder in self._folders:
            try:
                os.replace(tmp, target)
                return
            except FileNotFoundError:  # its folder was removed behind the store's back
                self._folders.discard(folder)
        os.makedirs(folder, exist_ok=True)
        os.replace(tmp, target)
        with self._lock:
            self._folders.add(folder)

    def sync(self) -> None:
        """Make every blob committed with ``durable=False`` so far durable (files and folders)."""
        with self._sync_lock:
            with self._lock:
                pending, self._unsynced = self._unsynced, []
            if pending:
                self._flush(pending)

    def _flush(self, pending: list[str]) -> None:
        if _SYNCFS is not None:
            fd = os.open(self.root, os.O_RDONLY)
            try:
                if _SYNCFS(fd) == 0:
                    return
            finally:
                os.close(fd)
        folders = {self.root / "sha256"}
        for name in pending:  # no syncfs: each file, then each directory, once
            path = Path(name)
            with open(path, "rb") as f:
                os.fsync(f.fileno())
            folders.update((path.parent, path.parent.parent))
        for folder in folders:
            _fsync_dir(folder)

    def sweep_tmp(self, older_than: float = TMP_MAX_AGE) -> int:
        """Remove temp files of killed writers (``blob-*`` untouched for ``older_than`` s)."""
        cutoff = time.time() - older_than
        removed = 0
        with os.scandir(self.tmp_dir) as entries:
            for entry in entries:
                if not entry.name.startswith(TMP_PREFIX):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:  # its writer committed or aborted it meanwhile
                    continue
        return removed

    def path_for(self, digest: str) -> Path:
        """Where the blob is (under the older two-level layout if only there), else where it goes."""
        path = self.location(digest)
        if not os.path.exists(path) and os.path.exists(legacy := self._legacy(digest)):
            return Path(legacy)
        return Path(path)

    def location(self, digest: str) -> str:
        """Where a blob is written, as a string (the per-blob hot path avoids ``pathlib``)."""
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return os.path.join(self._blobs, digest[:2], digest)

    def _legacy(self, digest: str) -> str:
        """Where the older two-level layout kept it (``sha256/ab/cd/<digest>``)."""
        return os.path.join(self._blobs, digest[:2], digest[2:4], digest)

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

    def problem(
        self, digest: str, size: int | None = None, *, deep: bool = True, legacy: bool = True
    ) -> str | None:
        """Why the blob ``digest`` is not intact ("missing", "damaged: …"), or None when it is.

        ``size`` (when known) is checked first; ``deep`` re-hashes the file (``False``: existence
        and size only, a cheap check); ``legacy=False`` looks only where blobs go now, not under
        the older two-level layout."""
        path = self.location(digest)
        try:
            actual = os.stat(path).st_size
        except FileNotFoundError:
            if not legacy:
                return "missing"
            try:
                path = self._legacy(digest)
                actual = os.stat(path).st_size
            except FileNotFoundError:
                return "missing"
        if size is not None and actual != size:
            return f"damaged: {actual} bytes on disk, {size} expected"
        if not deep:
            return None
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(READ_CHUNK):
                hasher.update(chunk)
        if hasher.hexdigest() != digest:
            return f"damaged: its content no longer has this sha256 ({actual} bytes)"
        return None
