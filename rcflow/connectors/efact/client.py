"""The eFACT RCF API's operations, for async callers: ``async with HubClient(...) as hub:``.

Every request goes through ``rcflow.connectors.efact.http`` (connections, retry, rate-limit, token
and deadline rules), at most ``concurrency`` at once, all on the caller's event loop.

A download is stored only if it is the document (see ``rcflow.connectors.efact.documents``): a
2xx answer, its body decoded as the transport encoded it, as long as announced, and plausibly of
the expected type. Its sha256 is that of the decoded, stored bytes. PATCH is never retried
blindly (it is not idempotent); callers re-read ``/estats`` instead. An invoice's detail (GET or
the PATCH answer) must be that invoice's: one carrying another id is refused as a protocol error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import SecretStr, ValidationError

from rcflow.connectors.efact.auth import DEFAULT_LIFETIME, JwtSigner
from rcflow.connectors.efact.documents import FACTURAE, HEAD_BYTES, RECEIPT, Expect
from rcflow.connectors.efact.errors import (
    HubError,
    HubNotDocument,
    HubNotFound,
    HubProtocolError,
    HubStatusError,
    HubTransportError,
)
from rcflow.connectors.efact.http import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    Answer,
    ClientStats,
    Http,
)
from rcflow.connectors.efact.models import (
    EntityList,
    HubModel,
    InvoiceDetail,
    PendingAttachmentsPage,
    PendingInvoicesPage,
    StateHistory,
    StateUpdate,
)
from rcflow.connectors.retries import DEFAULT_MAX_RETRIES
from rcflow.store import BlobStore, StoredBlob

M = TypeVar("M", bound=HubModel)


@dataclass(frozen=True)
class Download:
    media_type: str | None
    blob: StoredBlob
    content: bytes | None = None  # the stored bytes, when asked for and small enough to keep


def _seg(value: str) -> str:
    """An id as one URL path segment (hub ids are data, never path syntax)."""
    return quote(str(value), safe="")


class HubClient:
    """The eFACT RCF API on the caller's event loop (``concurrency``: requests in flight at most)."""

    def __init__(
        self,
        base_url: str,
        issuer: str,
        secret: SecretStr,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        rate_limit: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        token_lifetime: int = DEFAULT_LIFETIME,
    ):
        self.base_url = base_url.rstrip("/") + "/"
        self.signer = JwtSigner(issuer, secret, lifetime=token_lifetime)
        self.http = Http(self.base_url, self.signer, concurrency=concurrency, rate_limit=rate_limit,
                         timeout=timeout, max_retries=max_retries)  # fmt: skip
        self.concurrency = self.http.concurrency

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> HubClient:
        settings.require_hub()
        return cls(
            settings.hub_url,
            settings.issuer,
            settings.secret,
            concurrency=settings.concurrency,
            rate_limit=settings.rate_limit,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            token_lifetime=settings.token_lifetime,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"HubClient({self.base_url!r}, issuer={self.signer.issuer!r})"

    @property
    def stats(self) -> ClientStats:
        return self.http.stats

    async def __aenter__(self) -> HubClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: requests in flight fail at once, new ones are refused (an interrupted run ends now)."""
        self.http.stop()

    # ----------------------------------------------------------------- reads

    async def pending_invoices(
        self, *, nif: str | None = None, office: str | None = None
    ) -> PendingInvoicesPage:
        """GET /factures-pendents: up to 500 invoices waiting for download."""
        return await self._get_model("factures-pendents", PendingInvoicesPage, _filters(nif, office))

    async def invoice(self, invoice_id: str) -> InvoiceDetail:
        """GET /factura/:id. The detail may lack ``id``; it is filled from the request. One with
        another id raises ``HubProtocolError`` (see ``_own``)."""
        path = f"factura/{_seg(invoice_id)}"
        return _own("GET", path, await self._get_model(path, InvoiceDetail), invoice_id)

    async def states(self, invoice_id: str) -> StateHistory:
        """GET /factura/:id/estats: the invoice's state history."""
        return await self._get_model(f"factura/{_seg(invoice_id)}/estats", StateHistory)

    async def history(self, invoice_id: str) -> StateHistory:
        """The state history; a 2003 (no history yet) is an empty history, not an error."""
        try:
            return await self.states(invoice_id)
        except HubNotFound as exc:
            if exc.code == 2003:
                return StateHistory()
            raise

    async def entities(self) -> EntityList:
        """GET /ens: the entities of the integrator's platform."""
        return await self._get_model("ens", EntityList)

    async def pending_attachments(
        self, *, nif: str | None = None, office: str | None = None
    ) -> PendingAttachmentsPage:
        """GET /adjunts-pendents: up to 500 attachments waiting for download."""
        return await self._get_model("adjunts-pendents", PendingAttachmentsPage, _filters(nif, office))

    # ----------------------------------------------------------------- downloads

    async def facturae(
        self, invoice_id: str, store: BlobStore, *, durable: bool = True, keep: bool = False
    ) -> Download:
        """GET /factura/:id/facturae, streamed into the blob store (XML or a signed container).

        ``durable=False``: the caller makes it durable with ``store.sync()`` (see the store).
        ``keep``: the answer carries the stored bytes too (unless the file was too large to
        hold in memory), so a caller can parse them without reading the blob back."""
        return await self._download(f"factura/{_seg(invoice_id)}/facturae", store, FACTURAE, durable, keep)

    async def attachment(
        self,
        invoice_id: str,
        attachment_id: str,
        store: BlobStore,
        *,
        name: str | None = None,
        durable: bool = True,
    ) -> Download:
        """GET /factura/:id/adjunts/:idAdjunt, streamed into the blob store (Content-Type kept).

        ``name`` is the one the hub gave it: an HTML page served for a ``.pdf`` is refused."""
        path = f"factura/{_seg(invoice_id)}/adjunts/{_seg(attachment_id)}"
        return await self._download(path, store, Expect("attachment", name), durable)

    async def receipt(self, invoice_id: str, store: BlobStore) -> Download:
        """GET /factura/:id/rebut: the electronic receipt (PDF)."""
        return await self._download(f"factura/{_seg(invoice_id)}/rebut", store, RECEIPT)

    # ----------------------------------------------------------------- writes

    async def update_state(self, invoice_id: str, update: StateUpdate) -> InvoiceDetail:
        """PATCH /factura/:id. Sent once: a failure is the caller's to reconcile via /estats."""
        path = f"factura/{_seg(invoice_id)}"
        answer = await self.http.json("PATCH", path, body=update.to_json(), retry=False)
        return _own("PATCH", path, _parse_model("PATCH", path, answer, InvoiceDetail), invoice_id)

    async def release_attachment(self, attachment_id: str) -> None:
        """DELETE /adjunts-pendents/:idAdjunt. A 2002 after a lost answer counts as released."""
        path = f"adjunts-pendents/{_seg(attachment_id)}"
        ambiguous = False

        async def once() -> None:
            nonlocal ambiguous
            try:
                await self.http.json("DELETE", path, retry=False)
            except HubNotFound as exc:
                if ambiguous and exc.code == 2002:
                    return
                raise
            except (HubTransportError, HubStatusError) as exc:
                if isinstance(exc, HubTransportError) or exc.status >= 500:
                    ambiguous = True
                raise

        await self.http.retrying(once)

    # ----------------------------------------------------------------- machinery

    async def _get_model(self, path: str, model: type[M], params: dict[str, str] | None = None) -> M:
        return _parse_model("GET", path, await self.http.json("GET", path, params=params), model)

    async def _download(
        self, path: str, store: BlobStore, expect: Expect, durable: bool = True, keep: bool = False
    ) -> Download:
        async def once() -> Download:
            writer = store.writer()
            head = bytearray()

            def sink(chunk: bytes) -> None:
                if len(head) < HEAD_BYTES:
                    head.extend(chunk[: HEAD_BYTES - len(head)])
                writer.write(chunk)

            try:
                answer = await self.http.download(path, sink)
                media_type = _media_type(answer.headers.get("content-type"))
                if problem := expect.problem(media_type, bytes(head), writer.size):
                    raise HubNotDocument("GET", path, problem)
                content = writer.in_memory() if keep else None
                blob = writer.commit(durable=durable)
            except BaseException:
                writer.abort()
                raise
            return Download(media_type, blob, content)

        return await self.http.retrying(once)


def _filters(nif: str | None, office: str | None) -> dict[str, str] | None:
    params = {}
    if nif:
        params["nif"] = nif
    if office:
        params["oficinaComptable"] = office
    return params or None


def _own(method: str, path: str, detail: InvoiceDetail, invoice_id: str) -> InvoiceDetail:
    """The detail of ``invoice_id``, its id filled in when the hub left it out. A detail with
    another id (another invoice's, or this one written differently: ids are compared as the text
    the hub lists, so ``0159700002`` is not ``159700002``) is a hub inconsistency: raised."""
    wanted = str(invoice_id).strip()
    if detail.id is None:
        return _with_id(detail, wanted)
    if detail.id != wanted:
        raise HubProtocolError(
            method, path, f"it is the detail of invoice {detail.id[:40]!r}, not {wanted!r}"
        )
    return detail


def _with_id(detail: InvoiceDetail, invoice_id: str) -> InvoiceDetail:
    copy = detail.model_copy(update={"id": str(invoice_id)})
    copy._raw = detail._raw  # type: ignore[attr-defined]
    return copy


def _media_type(value: str | None) -> str | None:
    return value.split(";")[0].strip().lower() or None if value else None


def _parse_model(method: str, path: str, answer: Answer, model: type[M]) -> M:
    text = answer.body.decode("utf-8", errors="replace")
    try:
        parsed = model.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise HubProtocolError(method, path, f"malformed JSON at char {exc.pos}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise HubProtocolError(method, path, f"{where}: {first['msg']}") from None
    parsed._raw = text  # type: ignore[attr-defined]
    return parsed


__all__ = ["ClientStats", "Download", "HubClient", "HubError"]
