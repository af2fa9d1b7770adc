"""A download's body is the document the hub holds, whole, or an error: never a truncated body, a
stream cut inside its compression, a partial or empty 2xx, an ambiguous framing or a compression
bomb stored as the document.

The hub here is a raw socket server on loopback (``hub_support.serving``): each connection gets
the next of a list of scripted answers, bytes as written, then a clean close (FIN) or a reset (RST).
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest
from hub_support import ISSUER, SECRET, read_request, serving
from pydantic import SecretStr

from rcflow.connectors.efact import HubClient, HubNotDocument
from rcflow.connectors.efact import http as hub_http
from rcflow.connectors.efact.errors import HubProtocolError, HubTransportError
from rcflow.store import BlobStore

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops

XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<fe:Facturae xmlns:fe="http://www.facturae.es/Facturae/2014/v3.2.1/Facturae">'
    + b"<FileHeader><SchemaVersion>3.2.1</SchemaVersion></FileHeader>" * 400
    + b"</fe:Facturae>\n"
)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 64 + b"%%EOF\n"


@dataclass(frozen=True)
class Script:
    """One connection's answer: ``data`` as written, then a reset (``rst``) or a clean close."""

    data: bytes
    rst: bool = False


def answer(body: bytes, fields: bytes = b"", *, length: bool = True, status: bytes = b"200 OK") -> bytes:
    """An HTTP/1.1 answer with ``body``, its Content-Length unless ``length`` is False."""
    size = b"Content-Length: %d\r\n" % len(body) if length else b""
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: application/octet-stream\r\n"
        + size
        + fields
        + b"\r\n"
        + body
    )


def chunked(body: bytes, size: int = 1000) -> bytes:
    pieces = [body[k : k + size] for k in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@contextmanager
def hub(*scripts: Script) -> Iterator[tuple[str, list[int]]]:
    """A hub answering its n-th connection with ``scripts[n]`` (the last one from then on)."""
    served: list[int] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            script = scripts[min(len(served), len(scripts) - 1)]
            served.append(1)
            if not read_request(conn):
                return
            conn.sendall(script.data)
            if script.rst:
                time.sleep(0.5)  # the client has read what was sent: the reset comes mid-body
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with serving(handle, threaded=True) as (port, accepted):
        yield f"http://127.0.0.1:{port}/rcf", accepted


def client(url: str, **kwargs: object) -> HubClient:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 5.0)
    return HubClient(url, ISSUER, SecretStr(SECRET), **kwargs)  # type: ignore[arg-type]


def stored(store: BlobStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file()]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def facturae(url: str, store: BlobStore, **kwargs: object) -> str:
    async with client(url, **kwargs) as h:
        return (await h.facturae("7", store)).blob.sha256


async def attachment(url: str, store: BlobStore, **kwargs: object) -> str:
    async with client(url, **kwargs) as h:
        return (await h.attachment("7", "70", store, name="annex.pdf")).blob.sha256


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": lambda data: gzip.compress(data, compresslevel=1, mtime=0),
    "deflate": zlib.compress,
    "br": lambda data: brotli.compress(data, quality=1),
}


# ---------------------------------------------------------------------- compressed bodies


@pytest.mark.parametrize("coding", sorted(ENCODERS))
async def test_a_compressed_stream_cut_before_its_end_is_a_transport_error_retried(
    tmp_path: Path, coding: str
) -> None:
    """The framing is whole (Content-Length = bytes sent) but the compressed stream stops before
    its end marker (a front that died mid-stream): an error, retried, and the next whole answer
    is what is stored."""
    packed = ENCODERS[coding](PDF)
    fields = b"Content-Encoding: %s\r\n" % coding.encode()
    cut, whole = Script(answer(packed[: len(packed) - 8], fields)), Script(answer(packed, fields))
    store = BlobStore(tmp_path)
    with hub(cut) as (url, _), pytest.raises(HubTransportError, match=f"ends inside its '{coding}' stream"):
        await attachment(url, store)
    assert stored(store) == []
    with hub(cut, whole) as (url, accepted):
        assert await attachment(url, store, max_retries=1) == sha(PDF)
    assert len(accepted) == 2


async def test_every_member_of_a_multi_member_gzip_body_is_kept(tmp_path: Path) -> None:
    """RFC 1952 §2.2: a gzip file is a series of members; the body is all of them, in order."""
    half = len(PDF) // 2
    body = gzip.compress(PDF[:half], mtime=0) + gzip.compress(PDF[half:], mtime=0)
    with hub(Script(answer(body, b"Content-Encoding: gzip\r\n"))) as (url, _):
        assert await attachment(url, BlobStore(tmp_path)) == sha(PDF)


@pytest.mark.parametrize("coding", sorted(ENCODERS))
async def test_bytes_after_the_end_of_a_compressed_stream_are_an_error(tmp_path: Path, coding: str) -> None:
    body = ENCODERS[coding](PDF) + b"\x00trailing garbage"
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(body, b"Content-Encoding: %s\r\n" % coding.encode()))) as (url, _),
        pytest.raises(HubTransportError, match=f"not decodable as '{coding}'"),
    ):
        await attachment(url, store)
    assert stored(store) == []


async def test_raw_deflate_still_decodes_even_one_byte_at_a_time(tmp_path: Path) -> None:
    """Some servers send deflate without its zlib wrapper; told apart by the first two bytes,
    even when they arrive in two chunks."""
    body = chunked(_raw_deflate(PDF), size=1)
    fields = b"Content-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n"
    with hub(Script(answer(body, fields, length=False))) as (url, _):
        assert await attachment(url, BlobStore(tmp_path)) == sha(PDF)


# ---------------------------------------------------------------------- close-delimited bodies


async def test_a_reset_in_a_body_read_up_to_the_close_is_not_its_end(tmp_path: Path) -> None:
    """No Content-Length, not chunked: only a clean close (FIN) ends the body. A reset half-way is
    a transport error (``http.client`` raises too), retried; the clean answer is stored."""
    half = Script(answer(XML[: len(XML) // 2], b"Connection: close\r\n", length=False), rst=True)
    whole = Script(answer(XML, b"Connection: close\r\n", length=False))
    store = BlobStore(tmp_path)
    with hub(half) as (url, _), pytest.raises(HubTransportError, match="ConnectionResetError"):
        await facturae(url, store)
    assert stored(store) == []
    with hub(half, whole) as (url, accepted):
        assert await facturae(url, store, max_retries=1) == sha(XML)
    assert len(accepted) == 2


async def test_a_clean_close_still_ends_a_body_read_up_to_the_close(tmp_path: Path) -> None:
    old = Script(b"HTTP/1.0 200 OK\r\nContent-Type: application/xml\r\n\r\n" + XML)
    with hub(old) as (url, _):
        assert await facturae(url, BlobStore(tmp_path)) == sha(XML)


# ---------------------------------------------------------------------- 2xx other than 200


@pytest.mark.parametrize(
    ("status", "body", "fields"),
    [
        (b"206 Partial Content", XML[:1000], b"Content-Range: bytes 0-999/%d\r\n" % len(XML)),
        (b"204 No Content", b"", b""),
        (b"203 Non-Authoritative Information", XML, b""),
        (b"205 Reset Content", b"", b""),
    ],
)
async def test_a_download_is_a_200_only(tmp_path: Path, status: bytes, body: bytes, fields: bytes) -> None:
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(body, fields, status=status))) as (url, _),
        pytest.raises(HubNotDocument, match=f"status {status[:3].decode()} .*not 200"),
    ):
        await facturae(url, store)
        with pytest.raises(HubNotDocument, match=f"status {status[:3].decode()}"):
            await attachment(url, store)
    assert stored(store) == []


# ---------------------------------------------------------------------- framing


@pytest.mark.parametrize(
    "lengths",
    [
        b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(XML) - 500, len(XML)),
        b"Content-Length: %d, %d\r\n" % (len(XML), len(XML) - 500),
        b"Content-Length: +%d\r\n" % len(XML),
        b"Content-Length: %d_0\r\n" % len(XML),
    ],
)
async def test_content_lengths_that_are_not_one_length_are_a_protocol_error(
    tmp_path: Path, lengths: bytes
) -> None:
    """RFC 9112 §6.3: an invalid or disagreeing Content-Length is unrecoverable (not retried)."""
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(XML, lengths, length=False))) as (url, accepted),
        pytest.raises(HubProtocolError, match="Content-Length .*not one length"),
    ):
        await facturae(url, store, max_retries=2)
    assert stored(store) == [] and len(accepted) == 1


async def test_the_same_content_length_twice_is_one_length(tmp_path: Path) -> None:
    twice = b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(XML), len(XML))
    with hub(Script(answer(XML, twice, length=False))) as (url, _):
        assert await facturae(url, BlobStore(tmp_path)) == sha(XML)


async def test_an_answer_longer_than_its_content_length_is_refused(tmp_path: Path) -> None:
    """Bytes past the announced end, already there when the body ends (rcflow never pipelines):
    the length was wrong, so the body may be cut; a protocol error, nothing stored."""
    store = BlobStore(tmp_path)
    short = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(XML) - 100, XML)
    with (
        hub(Script(short)) as (url, _),
        pytest.raises(HubProtocolError, match="100 bytes past the announced end"),
    ):
        await facturae(url, store)
    assert stored(store) == []


@pytest.mark.parametrize(
    "codings",
    [b"gzip, chunked", b"gzip\r\nTransfer-Encoding: chunked", b"x-gzip,chunked", b"deflate, chunked"],
)
async def test_transfer_codings_before_a_final_chunked_are_undone(tmp_path: Path, codings: bytes) -> None:
    """RFC 9112 §6.3 and §7: chunked last frames the body; the codings before it are then undone."""
    packed = zlib.compress(PDF) if b"deflate" in codings else gzip.compress(PDF, mtime=0)
    fields = b"Transfer-Encoding: " + codings + b"\r\n"
    with hub(Script(answer(chunked(packed), fields, length=False))) as (url, _):
        assert await attachment(url, BlobStore(tmp_path)) == sha(PDF)


@pytest.mark.parametrize(
    ("codings", "reason"),
    [
        (b"chunked, gzip", "chunked is not the final coding"),
        (b"gzip", "chunked is not the final coding"),
        (b"identity", "chunked is not the final coding"),
        (b"chunked, chunked", "chunked is not the final coding"),
        (b"compress, chunked", "'compress' cannot be decoded"),
    ],
)
async def test_other_transfer_codings_are_refused(tmp_path: Path, codings: bytes, reason: str) -> None:
    """Not chunked last: RFC 9112 would read the body up to the close, still transfer-coded in a
    way rcflow never asked for (it sends no TE): refused, nothing stored, not retried."""
    body = gzip.compress(chunked(PDF), mtime=0) if codings.startswith(b"chunked") else gzip.compress(PDF)
    store = BlobStore(tmp_path)
    fields = b"Transfer-Encoding: " + codings + b"\r\nConnection: close\r\n"
    with (
        hub(Script(answer(body, fields, length=False))) as (url, accepted),
        pytest.raises(HubProtocolError, match=reason),
    ):
        await attachment(url, store, max_retries=2)
    assert stored(store) == [] and len(accepted) == 1


@pytest.mark.parametrize(
    ("size", "data"),
    [(b"-1", b""), (b"+5", b"abcde"), (b"0x5", b"abcde"), (b"1_0", b"a" * 16), (b"", b""), (b"5 5", b"")],
)
async def test_a_chunk_size_must_be_hex_digits(tmp_path: Path, size: bytes, data: bytes) -> None:
    """``int(size, 16)`` would take each (``data`` is what it would then read as the chunk)."""
    body = b"4\r\n%PDF\r\n" + size + b"\r\n" + data + b"\r\n0\r\n\r\n"
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(body, b"Transfer-Encoding: chunked\r\n", length=False))) as (url, _),
        pytest.raises(HubTransportError, match="IncompleteRead"),
    ):
        await attachment(url, store)
    assert stored(store) == []


# ---------------------------------------------------------------------- still encoded


@pytest.mark.parametrize(("name", "body"), [("annex.pdf", PDF), ("detall.xlsx", b"PK\x03\x04" + PDF)])
async def test_an_attachment_compressed_twice_is_refused(tmp_path: Path, name: str, body: bytes) -> None:
    """One Content-Encoding for two compressions: decoded once, still gzip where the name says a
    format with a signature of its own."""
    twice = gzip.compress(gzip.compress(body, mtime=0), mtime=0)
    store = BlobStore(tmp_path)
    with hub(Script(answer(twice, b"Content-Encoding: gzip\r\n"))) as (url, _):
        async with client(url) as h:
            with pytest.raises(
                HubNotDocument, match=r"gzip-compressed bytes where the hub announced a \.\w+ file"
            ):
                await h.attachment("7", "70", store, name=name)
    assert stored(store) == []


@pytest.mark.parametrize("name", ["annexos.gz", "dades.bin", "sense-extensio"])
async def test_gzip_attachments_are_stored_when_nothing_says_otherwise(tmp_path: Path, name: str) -> None:
    body = gzip.compress(PDF, mtime=0)
    with hub(Script(answer(body))) as (url, _):
        async with client(url) as h:
            assert (await h.attachment("7", "70", BlobStore(tmp_path), name=name)).blob.sha256 == sha(body)


# ---------------------------------------------------------------------- decoded size


async def test_a_compression_bomb_stops_at_the_download_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoded body obeys the download cap as the raw one does; no more than about one piece
    past it ever reaches the store."""
    cap = 1024 * 1024
    monkeypatch.setattr(hub_http, "MAX_DOWNLOAD_BYTES", cap)
    bomb = ENCODERS["gzip"](b"%PDF-1.4\n" + bytes(64 * cap))  # 64 MiB from a few hundred KiB
    assert len(bomb) < cap
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(bomb, b"Content-Encoding: gzip\r\n"))) as (url, accepted),
        pytest.raises(HubProtocolError, match=f"answer larger than {cap} bytes once decoded"),
    ):
        await attachment(url, store, max_retries=2)
    assert stored(store) == [] and len(accepted) == 1  # not retried


async def test_a_plain_body_over_the_download_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_http, "MAX_DOWNLOAD_BYTES", len(PDF) - 1)
    store = BlobStore(tmp_path)
    with (
        hub(Script(answer(PDF))) as (url, _),
        pytest.raises(HubProtocolError, match=f"answer larger than {len(PDF) - 1} bytes"),
    ):
        await attachment(url, store)
    assert stored(store) == []


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_decoders_hand_on_a_bomb_in_bounded_pieces(coding: str) -> None:
    decoders = hub_http._decoders((), coding, "GET", "/x")
    data = ENCODERS[coding](bytes(32 * 1024 * 1024))
    pieces = [len(piece) for piece in hub_http._through(decoders, data)]
    assert sum(pieces) == 32 * 1024 * 1024 and decoders[0].finished()
    assert max(pieces) <= 2 * hub_http.CHUNK
