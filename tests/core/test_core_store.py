"""The content-addressed store: atomic, deduplicated, never a path from the hub."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rcflow.store import BlobStore


def test_put_get_and_dedup(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    a = store.put(b"hello")
    b = store.put(b"hello")
    assert a == b and a.sha256 == hashlib.sha256(b"hello").hexdigest() and a.size == 5
    assert store.get(a.sha256) == b"hello"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_empty_blob(tmp_path: Path) -> None:
    blob = BlobStore(tmp_path).put(b"")
    assert blob.size == 0 and BlobStore(tmp_path).has(blob.sha256)


def test_aborted_writer_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    writer = store.writer()
    writer.write(b"partial")
    writer.abort()
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "sha256").exists()


@pytest.mark.parametrize("bad", ["../../etc/passwd", "abc", "z" * 64])
def test_only_digests_are_paths(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path).path_for(bad)
