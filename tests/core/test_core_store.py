"""The content-addressed store: atomic, deduplicated, never a path from the hub."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from rcflow.store import TMP_MAX_AGE, BlobStore


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


def test_a_damaged_blob_is_replaced_by_a_verified_copy(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put(b"<Facturae>the whole document</Facturae>")
    path = store.path_for(blob.sha256)
    path.write_bytes(b"<Facturae>the wh")  # truncated on disk
    assert store.problem(blob.sha256, blob.size).startswith("damaged: 16 bytes on disk")
    assert store.put(b"<Facturae>the whole document</Facturae>") == blob
    assert store.problem(blob.sha256) is None and store.get(blob.sha256).endswith(b"</Facturae>")


def test_a_missing_blob_is_written_again(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put(b"attachment")
    store.path_for(blob.sha256).unlink()
    assert store.problem(blob.sha256) == "missing"
    store.put(b"attachment")
    assert store.problem(blob.sha256, blob.size) is None


def test_same_size_damage_is_found_only_by_hashing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    blob = store.put(b"abcdef")
    store.path_for(blob.sha256).write_bytes(b"abcdeX")
    assert store.problem(blob.sha256, blob.size, deep=False) is None
    assert "no longer has this sha256" in (store.problem(blob.sha256, blob.size) or "")


def test_old_temp_files_of_killed_writers_are_swept_not_those_of_live_ones(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    old, fresh, other = tmp / "blob-killed", tmp / "blob-writing", tmp / "not-ours"
    for path in (old, fresh, other):
        path.write_bytes(b"partial")
    hours_ago = time.time() - 2 * TMP_MAX_AGE
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    store = BlobStore(tmp_path)  # opening the store (a run's start) sweeps
    assert store.swept == 1
    assert not old.exists() and fresh.exists() and other.exists()


def _unsynced(store: BlobStore, data: bytes) -> str:
    writer = store.writer()
    writer.write(data)
    return writer.commit(durable=False).sha256


def test_an_unsynced_blob_is_whole_at_its_path_and_no_temp_file_is_left(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = _unsynced(store, b"<Facturae/>")
    assert store.get(digest) == b"<Facturae/>" and store.problem(digest, 11) is None
    assert list((tmp_path / "tmp").iterdir()) == []
    assert store._unsynced == [str(store.path_for(digest))]  # flushed by the next sync()
    store.sync()
    assert store._unsynced == []


def test_a_blob_folder_removed_behind_the_store_is_made_again(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = _unsynced(store, b"attachment")
    store.path_for(digest).unlink()
    store.path_for(digest).parent.rmdir()  # the store remembers having made it
    assert _unsynced(store, b"attachment") == digest
    assert store.get(digest) == b"attachment" and list((tmp_path / "tmp").iterdir()) == []


def test_the_bytes_of_a_small_blob_are_handed_back_before_commit(tmp_path: Path) -> None:
    writer = BlobStore(tmp_path).writer()
    writer.write(b"<Facturae>")
    writer.write(b"</Facturae>")
    assert writer.in_memory() == b"<Facturae></Facturae>"
    writer.commit(durable=False)


def test_blobs_go_one_folder_deep_and_the_older_two_level_layout_is_still_read(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    new = store.put(b"new")
    assert store.path_for(new.sha256) == tmp_path / "sha256" / new.sha256[:2] / new.sha256
    old = hashlib.sha256(b"stored before").hexdigest()
    legacy = tmp_path / "sha256" / old[:2] / old[2:4] / old
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"stored before")
    assert store.has(old) and store.get(old) == b"stored before" and store.path_for(old) == legacy
    assert store.problem(old, 13) is None and store.put(b"stored before").sha256 == old
    assert not (tmp_path / "sha256" / old[:2] / old).exists()  # intact where it was: not copied
    legacy.write_bytes(b"stored")  # damaged: the verified copy goes where new blobs go
    assert store.problem(old, 13).startswith("damaged: 6 bytes")
    assert store.put(b"stored before").sha256 == old and store.get(old) == b"stored before"
    assert store.path_for(old) == tmp_path / "sha256" / old[:2] / old


def test_the_bulk_path_writes_again_a_blob_kept_only_under_the_older_layout(tmp_path: Path) -> None:
    """The sync's writer (``durable=False``) looks only where blobs go now: a copy kept only
    under the two-level layout is written again there (a duplicate, read from then on)."""
    store = BlobStore(tmp_path)
    old = hashlib.sha256(b"stored before").hexdigest()
    legacy = tmp_path / "sha256" / old[:2] / old[2:4] / old
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"stored before")
    assert store.problem(old, 13) is None and store.problem(old, 13, legacy=False) == "missing"
    writer = store.writer()
    writer.write(b"stored before")
    assert writer.commit(durable=False).sha256 == old
    store.sync()
    assert store.path_for(old) == tmp_path / "sha256" / old[:2] / old
    assert store.get(old) == b"stored before" and legacy.read_bytes() == b"stored before"
    assert store.problem(old, 13) is None and not list(store.tmp_dir.iterdir())
