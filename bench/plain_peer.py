"""A plain threaded eFACT client, for comparison only (issue 15): the standard library and nothing else.

``http.client`` connections in a thread pool, JWT HS256 signed with ``hmac``, files written and
fsynced on disk by sha256, rows in SQLite, the Facturae parsed with ``xml.etree``. It makes the same
requests per invoice as ``rcflow sync`` (detail, Facturae, history, each attachment, then PATCH
DELIVERED) and acknowledges an invoice only after its files are fsynced and its row committed.
It stores what rcflow stores: the entities (``/ens``), each invoice's detail and history as the hub
sent them, its files, and the Facturae fields rcflow keeps (the document's header, parties and
totals, its lines, installments and administrative centres), as text.
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
        self.db.execute("create table if not exists entities (nif text primary key, json text)")
        self.db.execute(f"create table if not exists documents (invoice_id text primary key,"
                        f" {', '.join(f'{c} text' for c in DOCUMENT)})")  # fmt: skip
        for name, columns in CHILDREN.items():
            fields = ", ".join(f"{c} text" for c in columns)
            self.db.execute(f"create table if not exists {name} (invoice_id text, seq integer, {fields},"
                            " primary key (invoice_id, seq))")  # fmt: skip

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

    def entities(self) -> None:
        listed = json.loads(self._call("GET", "/ens")).get("ens") or []
        with self.dblock, self.db:
            self.db.executemany("insert or replace into entities values (?, ?)",
                                [(str(e.get("nif")), json.dumps(e)) for e in listed])  # fmt: skip

    def _one(self, invoice_id: str) -> tuple[str, tuple, list[tuple], dict[str, list[tuple]]]:
        detail = self._call("GET", f"/factura/{invoice_id}")
        xml = self._call("GET", f"/factura/{invoice_id}/facturae")
        history = self._call("GET", f"/factura/{invoice_id}/estats")
        parsed = _facturae(invoice_id, xml)
        total = parsed["documents"][0][DOCUMENT.index("total") + 1] if parsed["documents"] else ""
        attachments = []
        for ref in json.loads(detail).get("adjunts") or []:
            content = self._call("GET", f"/factura/{invoice_id}/adjunts/{ref['idAdjunt']}")
            attachments.append((invoice_id, str(ref["idAdjunt"]), self._store(content)))
        row = (invoice_id, detail.decode(), self._store(xml), history.decode(), total)
        return invoice_id, row, attachments, parsed

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
                                            [row for _, row, _, _ in fetched])  # fmt: skip
                        self.db.executemany("insert or replace into attachments values (?, ?, ?)",
                                            [a for _, _, atts, _ in fetched for a in atts])  # fmt: skip
                        for name in ("documents", *CHILDREN):
                            rows = [r for _, _, _, parsed in fetched for r in parsed[name]]
                            if rows:
                                marks = ", ".join("?" * len(rows[0]))
                                self.db.executemany(f"insert or replace into {name} values ({marks})", rows)
                    list(pool.map(self._ack, ids))
                    done += len(ids)
            finally:
                finished.set()
                side.join()
            self.drain_attachments(pool)
        return done


# The Facturae fields rcflow stores (raw.facturae_documents and its child tables), as paths.
PARTY = {"tax_id": "TaxIdentification/TaxIdentificationNumber", "name": "LegalEntity/CorporateName",
         "person_type": "TaxIdentification/PersonTypeCode",
         "residence": "TaxIdentification/ResidenceTypeCode"}
HEADER = {"declared_version": "FileHeader/SchemaVersion", "batch_count": "FileHeader/Batch/InvoicesCount",
          "batch_total": "FileHeader/Batch/TotalInvoicesAmount/TotalAmount",
          "batch_outstanding": "FileHeader/Batch/TotalOutstandingAmount/TotalAmount",
          "batch_executable": "FileHeader/Batch/TotalExecutableAmount/TotalAmount",
          "batch_currency": "FileHeader/Batch/InvoiceCurrencyCode"}
INVOICE = {"number": "InvoiceHeader/InvoiceNumber", "series": "InvoiceHeader/InvoiceSeriesCode",
           "document_type": "InvoiceHeader/InvoiceDocumentType", "class": "InvoiceHeader/InvoiceClass",
           "issue_date": "InvoiceIssueData/IssueDate", "currency": "InvoiceIssueData/InvoiceCurrencyCode",
           "gross": "InvoiceTotals/TotalGrossAmountBeforeTaxes",
           "tax_outputs": "InvoiceTotals/TotalTaxOutputs",
           "tax_withheld": "InvoiceTotals/TotalTaxesWithheld", "total": "InvoiceTotals/InvoiceTotal",
           "outstanding": "InvoiceTotals/TotalOutstandingAmount",
           "executable": "InvoiceTotals/TotalExecutableAmount"}
LINE = {"description": "ItemDescription", "quantity": "Quantity", "unit": "UnitOfMeasure",
        "unit_price": "UnitPriceWithoutTax", "total_cost": "TotalCost", "gross": "GrossAmount",
        "tax_rate": "TaxesOutputs/Tax/TaxRate"}
INSTALLMENT = {"due_date": "InstallmentDueDate", "amount": "InstallmentAmount", "means": "PaymentMeans"}
CENTRE = {"role": "RoleTypeCode", "code": "CentreCode", "name": "Name"}
DOCUMENT = ["version", *HEADER, *(f"{p}_{k}" for p in ("seller", "buyer") for k in PARTY), *INVOICE,
            "invoice_count", "signed"]
CHILDREN = {"lines": list(LINE), "installments": list(INSTALLMENT), "centres": ["party", *CENTRE]}


def _facturae(invoice_id: str, xml: bytes) -> dict[str, list[tuple]]:
    """The Facturae fields rcflow stores, as text rows (none when the file does not parse)."""
    out: dict[str, list[tuple]] = {"documents": [], **{name: [] for name in CHILDREN}}
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return out

    def text(element: ET.Element | None, path: str) -> str | None:
        found = element.find(path) if element is not None else None
        return found.text.strip() if found is not None and found.text else None

    invoice = root.find("Invoices/Invoice")
    parties = {p: root.find(f"Parties/{p.capitalize()}Party") for p in ("seller", "buyer")}
    row = [root.tag.partition("}")[0].lstrip("{"), *(text(root, path) for path in HEADER.values()),
           *(text(parties[p], path) for p in parties for path in PARTY.values()),
           *(text(invoice, path) for path in INVOICE.values()),
           str(len(root.findall("Invoices/Invoice"))),
           str(any(e.tag.endswith("}Signature") for e in root))]  # fmt: skip
    out["documents"].append((invoice_id, *row))
    if invoice is not None:
        for seq, line in enumerate(invoice.findall("Items/InvoiceLine"), 1):
            out["lines"].append((invoice_id, seq, *(text(line, path) for path in LINE.values())))
        for seq, item in enumerate(invoice.findall("PaymentDetails/Installment"), 1):
            out["installments"].append((invoice_id, seq, *(text(item, p) for p in INSTALLMENT.values())))
    seq = 0
    for party, element in parties.items():
        centres = element.findall("AdministrativeCentres/AdministrativeCentre") if element is not None else []
        for centre in centres:
            seq += 1
            role, code, name = (text(centre, p) for p in CENTRE.values())
            name = name or text(centre, "CentreDescription")
            out["centres"].append((invoice_id, seq, party, role, code, name))
    return out


def main() -> None:
    base_url, issuer, secret, folder = sys.argv[1:5]
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    peer = Peer(base_url, issuer, secret, folder, concurrency)
    started = time.perf_counter()
    peer.entities()
    invoices = peer.drain()
    seconds = time.perf_counter() - started
    print(json.dumps({"invoices_new": invoices, "requests": peer.requests, "seconds": seconds}))


if __name__ == "__main__":
    main()
