"""A plain threaded eFACT client, for comparison only (issue 15): the standard library and nothing else.

``http.client`` connections in a thread pool, JWT HS256 signed with ``hmac``, files written and
fsynced on disk by sha256, rows in SQLite, the Facturae parsed with ``xml.etree``. It makes the same
requests per invoice as ``rcflow sync`` (detail, Facturae, history, each attachment, then PATCH
DELIVERED) and acknowledges an invoice only after its files are fsynced and its row committed.
Like rcflow it drains the hub's attachment queue (``/adjunts-pendents``, filled as invoices are
delivered) in a thread beside the pages, and once more at the end: an attachment it lacks is
downloaded and committed, then each is released (``DELETE``), as the hub requires.
It keeps none of rcflow's other guarantees (typed errors, retries, quarantine, Arrow bulk writes,
secure XML parsing): it is a yardstick, never a product.

Run: python bench/plain_peer.py BASE_URL ISSUER SECRET DB_DIR [CONCURRENCY]   (prints JSON)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Peer:
    def __init__(self, base_url: str, issuer: str, secret: str, folder: str, concurrency: int) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.issuer, self.secret = issuer, secret.encode()
        self.folder = folder
        self.concurrency = concurrency
        self.local = threading.local()
        self.requests = 0
        self.lock = threading.Lock()
        self.dblock = threading.Lock()
        self.token, self.token_until = "", 0.0
        os.makedirs(os.path.join(folder, "blobs"), exist_ok=True)
        self.db = sqlite3.connect(os.path.join(folder, "peer.sqlite"), check_same_thread=False)
        self.db.execute("create table if not exists invoices (id text primary key, detail text,"
                        " xml_sha256 text, history text, total text)")  # fmt: skip
        self.db.execute("create table if not exists attachments (invoice_id text, id text, sha256 text,"
                        " primary key (invoice_id, id))")  # fmt: skip

    def _jwt(self) -> str:
        now = time.time()
        with self.lock:
            if now < self.token_until:
                return self.token
            header = _b64(b'{"alg":"HS256","typ":"JWT"}')
            claims = {"iss": self.issuer, "aud": "efact", "iat": int(now) - 5, "nbf": int(now) - 5,
                      "exp": int(now) + 60}  # fmt: skip
            body = _b64(json.dumps(claims, separators=(",", ":")).encode())
            signature = _b64(hmac.new(self.secret, f"{header}.{body}".encode(), hashlib.sha256).digest())
            self.token, self.token_until = f"{header}.{body}.{signature}", now + 40
            return self.token

    def _call(self, method: str, path: str, body: dict | None = None) -> bytes:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._jwt()}", "Accept": "*/*"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, self.prefix + path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        with self.lock:
            self.requests += 1
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
        return data

    def _store(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.folder, "blobs", digest)
        if not os.path.exists(path):
            tmp = f"{path}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        return digest

    def _one(self, invoice_id: str) -> tuple[str, tuple, list[tuple]]:
        detail = self._call("GET", f"/factura/{invoice_id}")
        xml = self._call("GET", f"/factura/{invoice_id}/facturae")
        history = self._call("GET", f"/factura/{invoice_id}/estats")
        total = ""
        try:
            root = ET.fromstring(xml)
            node = next((e for e in root.iter() if e.tag.endswith("InvoiceTotal")), None)
            total = node.text or "" if node is not None else ""
        except ET.ParseError:
            pass
        attachments = []
        for ref in json.loads(detail).get("adjunts") or []:
            content = self._call("GET", f"/factura/{invoice_id}/adjunts/{ref['idAdjunt']}")
            attachments.append((invoice_id, str(ref["idAdjunt"]), self._store(content)))
        row = (invoice_id, detail.decode(), self._store(xml), history.decode(), total)
        return invoice_id, row, attachments

    def _ack(self, invoice_id: str) -> None:
        self._call("PATCH", f"/factura/{invoice_id}", {"estat": "DELIVERED"})

    def _late(self, item: dict) -> tuple[str, str, str]:
        invoice_id, attachment_id = str(item["idFactura"]), str(item["idAdjunt"])
        content = self._call("GET", f"/factura/{invoice_id}/adjunts/{attachment_id}")
        return invoice_id, attachment_id, self._store(content)

    def _release(self, attachment_id: str) -> None:
        self._call("DELETE", f"/adjunts-pendents/{attachment_id}")

    def drain_attachments(self, pool: ThreadPoolExecutor) -> int:
        """The attachment queue until empty: store what is missing, commit, then release."""
        released = 0
        while True:
            items = json.loads(self._call("GET", "/adjunts-pendents")).get("adjunts") or []
            if not items:
                return released
            ids = [str(item["idAdjunt"]) for item in items]
            with self.dblock:
                marks = ",".join("?" * len(ids))
                rows = self.db.execute(f"select id from attachments where id in ({marks})", ids)
                known = {r[0] for r in rows}
            fetched = list(pool.map(self._late, [i for i in items if str(i["idAdjunt"]) not in known]))
            with self.dblock, self.db:
                self.db.executemany("insert or replace into attachments values (?, ?, ?)", fetched)
            list(pool.map(self._release, ids))
            released += len(ids)

    def drain(self) -> int:
        done, previous = 0, None
        finished = threading.Event()
        with ThreadPoolExecutor(self.concurrency) as pool:

            def alongside() -> None:
                while not finished.is_set():
                    self.drain_attachments(pool)
                    finished.wait(0.5)

            side = threading.Thread(target=alongside)
            side.start()
            try:
                while True:
                    page = json.loads(self._call("GET", "/factures-pendents"))
                    ids = [str(item["id"]) for item in page.get("factures") or []]
                    if not ids or ids == previous:  # empty, or the hub keeps listing what it refused
                        break
                    previous = ids
                    fetched = list(pool.map(self._one, ids))
                    with self.dblock, self.db:  # one transaction per page, before any acknowledgement
                        self.db.executemany("insert or replace into invoices values (?, ?, ?, ?, ?)",
                                            [row for _, row, _ in fetched])  # fmt: skip
                        self.db.executemany("insert or replace into attachments values (?, ?, ?)",
                                            [a for _, _, atts in fetched for a in atts])  # fmt: skip
                    list(pool.map(self._ack, ids))
                    done += len(ids)
            finally:
                finished.set()
                side.join()
            self.drain_attachments(pool)
        return done


def main() -> None:
    base_url, issuer, secret, folder = sys.argv[1:5]
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    peer = Peer(base_url, issuer, secret, folder, concurrency)
    started = time.perf_counter()
    invoices = peer.drain()
    seconds = time.perf_counter() - started
    print(json.dumps({"invoices_new": invoices, "requests": peer.requests, "seconds": seconds}))


if __name__ == "__main__":
    main()
