"""Which stored blobs are damaged or missing, and which invoices they belong to.

Every blob the warehouse refers to (Facturae files, receipts, attachments, and the legal documents
sent for signature and received signed) is checked in the blob store: ``deep`` re-hashes each file
(``rcflow store verify``); otherwise only existence and size are checked, cheap enough for
``rcflow status``.

A damaged or missing blob is repaired by downloading it again (``rcflow store verify --repair``, or
a backfill of its invoice): the store replaces a damaged copy with the new one, and the repair
counts only if the hub served the very bytes whose sha256 the warehouse recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

import duckdb

from rcflow.connectors.efact import HubClient, HubError
from rcflow.connectors.efact.client import Download
from rcflow.store import BlobStore

# (invoice_id, what, attachment_id or document reference, sha256, size) for every blob referred to.
INVOICE_BLOBS_SQL = """
select invoice_id, 'Facturae file' as what, null as ref, xml_sha256 as sha256, null::bigint as size
from raw.invoices where xml_sha256 is not null
union all
select invoice_id, 'receipt', null, receipt_sha256, null::bigint
from raw.invoices where receipt_sha256 is not null
union all
select invoice_id, 'attachment', attachment_id, sha256, size_bytes
from raw.attachments where sha256 is not null
"""
SIGNATURE_BLOBS_SQL = """
union all
select null, 'PDF sent for signature', reference, sent_sha256, null::bigint from ops.signature_requests
union all
select null, 'signed PDF', reference, signed_sha256, null::bigint
from ops.signature_requests where signed_sha256 is not null
"""
NOT_FROM_THE_HUB = "not repaired: not a hub document (the signing service has its copy)"


@dataclass(frozen=True)
class BlobProblem:
    invoice_id: str | None  # None: a legal document sent for signature, not an invoice's
    what: str  # "Facturae file" | "receipt" | "attachment" | "PDF sent for signature" | "signed PDF"
    attachment_id: str | None  # the attachment's id, or the signed document's reference
    sha256: str
    problem: str  # "missing" | "damaged: …"

    def line(self) -> str:
        if self.invoice_id is None:
            return f"document {self.attachment_id}: {self.what} {self.sha256[:12]}… {self.problem}"
        which = f"attachment {self.attachment_id}" if self.what == "attachment" else self.what
        return f"invoice {self.invoice_id}: {which} {self.sha256[:12]}… {self.problem}"

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def blob_problems(
    con: duckdb.DuckDBPyConnection, store: BlobStore, *, deep: bool = True
) -> list[BlobProblem]:
    """Every reference to a damaged or missing blob (each blob is checked once)."""
    verdicts: dict[tuple[str, int | None], str | None] = {}
    problems = []
    sql = INVOICE_BLOBS_SQL + (SIGNATURE_BLOBS_SQL if _has_table(con, "ops", "signature_requests") else "")
    for invoice_id, what, attachment_id, digest, size in con.execute(sql + " order by 1, 2, 3").fetchall():
        key = (digest, size)
        if key not in verdicts:
            try:
                verdicts[key] = store.problem(digest, size, deep=deep)
            except ValueError:  # not a sha256: the warehouse row itself is wrong
                verdicts[key] = "not a sha256 digest"
        if verdicts[key] is not None:
            problems.append(BlobProblem(invoice_id, what, attachment_id, digest, verdicts[key] or ""))
    return problems


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def blob_problem_count(con: duckdb.DuckDBPyConnection, store: BlobStore) -> int:
    """Missing blobs, and damaged ones whose size shows it (attachments: the warehouse has their
    size; a Facturae file's is not recorded), without re-hashing: cheap enough for ``rcflow status``."""
    return len(blob_problems(con, store, deep=False))


async def repair(hub: HubClient, store: BlobStore, problems: list[BlobProblem]) -> dict[str, str]:
    """Download each damaged or missing blob again; per sha256, "repaired" or why not."""
    first: dict[str, BlobProblem] = {}
    for problem in problems:
        first.setdefault(problem.sha256, problem)

    async def one(problem: BlobProblem) -> str:
        if problem.invoice_id is None:
            return NOT_FROM_THE_HUB
        try:
            got = await _download(hub, store, problem)
        except HubError as exc:
            return f"not repaired: {exc}"
        if got.blob.sha256 != problem.sha256:
            return f"not repaired: the hub now serves other bytes (sha256 {got.blob.sha256[:12]}…)"
        return "repaired" if store.problem(problem.sha256) is None else "not repaired: still damaged"

    outcomes = await asyncio.gather(*(one(p) for p in first.values()))
    return dict(zip(first, outcomes, strict=True))


async def _download(hub: HubClient, store: BlobStore, problem: BlobProblem) -> Download:
    if problem.attachment_id:
        return await hub.attachment(problem.invoice_id, problem.attachment_id, store)
    if problem.what == "receipt":
        return await hub.receipt(problem.invoice_id, store)
    return await hub.facturae(problem.invoice_id, store)
