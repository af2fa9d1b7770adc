"""Behind a front whose answers carry malformed header lines, the sync stores every document byte
for byte and acknowledges what it stored.

The rule (``rcflow.connectors.efact.wire``): a header line that is not ``name: value`` (no colon,
an empty name, whitespace before the colon) is skipped and the block goes on. That is what a
senior reviewer should expect here, rather than an error, because:

* the answer's framing is unaffected: ``Content-Length`` / ``Transfer-Encoding`` are still read
  from the lines after the bad one, and every check that decides what is stored still runs on the
  body (media type, HTML sniffing, decoding, the sha256 recorded and verified in the store);
* a skipped line can only make the client know less; a bad line that would have carried a framing
  field (``Content-Length : 5``) leaves the body close-delimited or cut at the deadline, which is
  a deferral, never an acknowledgement of a wrong body;
* the obvious alternative, what ``http.client`` did before (its ``email`` parser treats the first
  bad line as the end of the headers), silently drops every field after it: a keep-alive answer
  without its ``Content-Length`` then hangs until the deadline on every request. Refusing the
  answer outright would stall a whole hub on one sloppy proxy for no gain in integrity.

The front here is a raw socket relay (an ASGI server refuses to write such lines): it forwards
each request to the simulator and answers on the same keep-alive connection with the bad lines
*before* ``Content-Type`` and ``Content-Length``, so losing the fields after a bad line would show.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from invariants import acknowledged_on_hub, assert_nothing_lost, pending_left, warehouse_rows
from pydantic import SecretStr
from sync_support import ISSUER, SECRET

from rcflow.config import Settings, load_settings
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.ingest.run import run_sync
from rcflow.store import BlobStore

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops

MALFORMED = (
    b"this line has no colon\r\n",
    b": a value without a name\r\n",
    b"X-Spaced Name : whitespace before the colon\r\n",
)
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class MalformedFront:
    """Relays to ``upstream`` on loopback, adding :data:`MALFORMED` to the top of every answer."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self.answers = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        self.root_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        reader = conn.makefile("rb")
        try:
            while not self._stop.is_set():
                request_line = reader.readline()
                if not request_line.strip():
                    return
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = reader.read(int(headers.get("content-length", "0")))
                sent = {k: v for k, v in headers.items() if k not in _HOP and k != "host"}
                upstream.request(method, target, body=body or None, headers=sent)
                answer = upstream.getresponse()
                content = answer.read()
                kept = b"".join(
                    f"{k}: {v}\r\n".encode("latin-1")
                    for k, v in answer.getheaders()
                    if k.lower() not in _HOP
                )
                conn.sendall(
                    f"HTTP/1.1 {answer.status} {answer.reason}\r\n".encode("latin-1")
                    + b"".join(MALFORMED)
                    + kept
                    + b"Content-Length: %d\r\n\r\n" % len(content)
                    + content
                )
                with self._lock:
                    self.answers += 1
        except OSError:
            return
        finally:
            reader.close()
            conn.close()
            upstream.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def front(sim: RunningSimulator) -> Iterator[MalformedFront]:
    relay = MalformedFront(sim.root_url)
    yield relay
    relay.stop()


def test_the_relay_really_sends_the_malformed_lines(sim: RunningSimulator, front: MalformedFront) -> None:
    """The test below is only worth something if the answers carry the bad lines."""
    with socket.create_connection(("127.0.0.1", urlsplit(front.root_url).port or 80)) as s:
        s.sendall(b"GET /rcf/ens HTTP/1.1\r\nHost: x\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(65536)
    status, *lines = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert status.startswith(b"HTTP/1.1 ")
    assert [line + b"\r\n" for line in lines[: len(MALFORMED)]] == list(MALFORMED)
    assert any(line.lower().startswith(b"content-length:") for line in lines[len(MALFORMED) :])


@pytest.mark.sim(invoices=20, late_attachment_rate=0.0)
def test_malformed_header_lines_are_skipped_and_every_document_is_stored_byte_exact(
    sim: RunningSimulator, front: MalformedFront, tmp_path: Path
) -> None:
    settings: Settings = load_settings(
        hub_url=front.root_url + "/rcf",
        issuer=ISSUER,
        secret=SecretStr(SECRET),
        warehouse=tmp_path / "data" / "warehouse.duckdb",
        concurrency=8,
        timeout=5.0,
        max_retries=1,
    )
    summary = asyncio.run(run_sync(settings))
    assert summary.ok, summary.deferred
    assert summary.invoices_acknowledged == 20 and pending_left(sim) == 0
    assert front.answers >= 20 * 3  # detail, Facturae file, acknowledgement at least, all relayed
    store = BlobStore(settings.store_dir)
    stored = warehouse_rows(settings, "select invoice_id, xml_sha256 from raw.invoices")
    assert {invoice_id for invoice_id, _ in stored} == acknowledged_on_hub(sim)
    for invoice_id, sha in stored:
        assert sha == hashlib.sha256(sim.hub.facturae(invoice_id)).hexdigest()
        assert store.problem(sha) is None
    for invoice_id, attachment_id, sha in warehouse_rows(
        settings, "select invoice_id, attachment_id, sha256 from raw.attachments"
    ):
        served = sim.hub.attachment(invoice_id, attachment_id)[1].read()
        assert sha == hashlib.sha256(served).hexdigest()
    assert_nothing_lost(sim, settings)
