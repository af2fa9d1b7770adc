"""Async client for FACe's RCF web service (``facturasrcf2``): every receiving-side operation.

Each call builds the SOAP envelope, signs it (WS-Security X.509), POSTs it, verifies FACe's
signature on the answer against the pinned certificates and turns ``resultado`` into a value or a
typed error. The CPU work of a call (signing, parsing and verifying the answer, decoding a
downloaded file) runs in the client's pool of ``concurrency`` threads (:meth:`FaceClient.blocking`,
which the connector uses for its own hashing and parsing), never on the event loop.

Reads are retried on transport failures, 5xx and server-side SOAP faults, with backoff and
jitter, and on a 429 after its ``Retry-After`` (not when it asks for more than
``MAX_RETRY_AFTER``: the invoice waits for the next run); until then no other call of the client
is sent either. Writes (confirm, state changes, RCF
code, cancellation answers, credit assignments) are sent once, and a failure that may hide an
applied write says so (``ambiguous``): a transport failure, a 5xx, and an answer that is not
FACe's (a proxy's page, redirect or garbled body, named as such in one line). Every attempt has
an overall deadline (``rcflow.connectors.deadline``, the rule both hubs' clients share):
``timeout`` to the headers, extended only as the body arrives at ``MIN_BODY_RATE`` or faster, so
a dripping answer fails in about ``timeout`` seconds. Nothing the client logs or raises carries
the key, the password or a document's content.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from rcflow.connectors.deadline import Deadline
from rcflow.connectors.face import wire
from rcflow.connectors.face.codes import (
    FORBIDDEN_TARGETS,
    MAX_CHANGE_BATCH,
    MAX_NEW_INVOICES,
    MAX_QUERY_BATCH,
    STATE_NAMES,
    State,
)
from rcflow.connectors.face.credentials import (
    FaceCredentials,
    describe,
    load_credentials,
    load_trusted_certificates,
)
from rcflow.connectors.face.errors import (
    FaceError,
    FaceFault,
    FaceHttpError,
    FaceProtocolError,
    FaceRateLimited,
    FaceRequestError,
    FaceResponseSignatureError,
    FaceServerError,
    FaceTimeout,
    FaceTransportError,
    result_error,
)
from rcflow.connectors.face.models import (
    CancellationAnswer,
    CancellationPage,
    CancellationRequest,
    CreditAssignment,
    DownloadedInvoice,
    InvoiceStatus,
    ItemResult,
    NewInvoice,
    NewInvoicesPage,
    RcfCodeChanged,
    Result,
    StateChange,
    StateDefinition,
    UnitRelation,
    section,
    text,
)
from rcflow.connectors.face.settings import FaceSettings
from rcflow.connectors.face.wsse import DEFAULT_ACCEPTED, SecurityFault, Signer, parse_envelope, verify
from rcflow.connectors.retries import DEFAULT_MAX_RETRIES, MAX_RETRY_AFTER, retry_after, retrying

log = logging.getLogger("rcflow.face")

DEFAULT_TIMEOUT = 60.0
MAX_ANSWER_BYTES = 200 * 1024 * 1024  # an invoice with its annexes, base64, in one answer
DECODED = frozenset({"identity", "gzip", "x-gzip", "deflate", "br"})  # what httpx undoes
USER_AGENT = "rcflow/0.1 (+FACe RCF integration)"
T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class ClientStats:
    """Counters for audits and benchmarks; CPU seconds are the pool threads', spent in WS-Security."""

    calls: int = 0
    retries: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    sign_cpu: float = 0.0
    verify_cpu: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "retries": self.retries,
            "by_code": dict(self.by_code),
            "sign_cpu": round(self.sign_cpu, 6),
            "verify_cpu": round(self.verify_cpu, 6),
        }


class FaceClient:
    """FACe's RCF service. Use ``async with FaceClient(...) as face:``."""

    def __init__(
        self,
        url: str,
        credentials: FaceCredentials,
        trusted: Sequence[x509.Certificate],
        *,
        signature_algorithm: str = "sha512",
        timestamp_ttl: int = 300,
        accepted_algorithms: Iterable[str] = DEFAULT_ACCEPTED,
        clock_skew: float = 300.0,
        concurrency: int = 4,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not trusted:
            raise FaceError("FaceClient needs FACe's signing certificate(s) to verify its answers")
        self.url = url.rstrip("/")
        self.signer = Signer(credentials, signature_algorithm, timestamp_ttl)
        self.trusted = tuple(trusted)
        self.accepted = tuple(accepted_algorithms)
        self.clock_skew = clock_skew
        self.max_retries = max_retries
        self.timeout = timeout
        self.concurrency = concurrency
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()
        self._slots = asyncio.Semaphore(concurrency)
        # A 429's Retry-After holds every call of this client, not only the one it answered
        # (the event loop's clock; 0: no wait asked).
        self._quiet_until = 0.0
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="face-cpu")
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={"User-Agent": USER_AGENT},
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: FaceSettings, **kwargs: Any) -> FaceClient:
        settings.require()
        assert settings.cert is not None and settings.server_cert is not None
        return cls(
            settings.url,
            load_credentials(settings.cert, settings.cert_password),
            load_trusted_certificates(settings.server_cert),
            signature_algorithm=settings.signature_algorithm,
            timestamp_ttl=settings.timestamp_ttl,
            concurrency=settings.concurrency,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"FaceClient({self.url!r}, {self.signer.credentials.description})"

    async def __aenter__(self) -> FaceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def blocking(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` in the client's CPU pool (off the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(call, *args, **kwargs))

    # ---------------------------------------------------------------- invoices

    async def new_invoices(self, office: str | None = None) -> NewInvoicesPage:
        """``solicitarNuevasFacturas``: up to 500 invoices in 1200 (all offices when ``office`` is None)."""
        answer, result = await self._call("solicitarNuevasFacturas", {"oficinaContable": office or ""})
        rows = _list(answer, "facturas", "solicitarNuevasFacturas")
        invoices = self._parse("solicitarNuevasFacturas", lambda: [NewInvoice.from_wire(r) for r in rows])
        return NewInvoicesPage(invoices, result.tracking, len(invoices) >= MAX_NEW_INVOICES)

    async def download(self, registry_number: str) -> DownloadedInvoice:
        """``descargarFactura``: the signed Facturae and annexes (only while the invoice is in 1200)."""
        op = "descargarFactura"
        answer, result = await self._call(
            op, {"numeroRegistro": _id(registry_number)}, subject=registry_number
        )
        build = functools.partial(DownloadedInvoice.from_wire, answer, registry_number, result.tracking)
        return await self.blocking(self._parse, op, build)  # base64 of the file and annexes

    async def confirm_download(self, office: str, registry_number: str, rcf_code: str) -> ItemResult:
        """``confirmarDescargaFactura``: 1200 → 1300 with the RCF number. Store everything first:
        a confirmed invoice can never be downloaded again."""
        if not rcf_code.strip():
            raise FaceRequestError("confirmarDescargaFactura needs the RCF number (codigoRCF)")
        op = "confirmarDescargaFactura"
        request = {"oficinaContable": office, "numeroRegistro": _id(registry_number), "codigoRCF": rcf_code}
        answer, result = await self._call(op, request, write=True, subject=registry_number)
        data = answer.get("factura") if isinstance(answer.get("factura"), dict) else {}
        state = text(data, "codigo", required=False) or State.REGISTERED_RCF
        return ItemResult(registry_number, "0", None, state, tracking=result.tracking)

    async def change_state(self, change: StateChange) -> ItemResult:
        """``cambiarEstadoFactura``: one state change (never 1200, 1300 or 3100)."""
        _check_change(change)
        op = "cambiarEstadoFactura"
        answer, result = await self._call(op, change.to_wire(), write=True, subject=change.registry_number)
        data = answer.get("factura") if isinstance(answer.get("factura"), dict) else {}
        state = text(data, "codigo", required=False) or change.code
        return ItemResult(change.registry_number, "0", None, state, tracking=result.tracking)

    async def change_states(self, changes: Sequence[StateChange]) -> list[ItemResult]:
        """``cambiarEstadoListadoFacturas``: up to 100 changes, one result per invoice (check ``ok``)."""
        _check_batch("cambiarEstadoListadoFacturas", len(changes), MAX_CHANGE_BATCH)
        for change in changes:
            _check_change(change)
        return await self._batch(
            "cambiarEstadoListadoFacturas",
            [c.to_wire() for c in changes],
            [c.registry_number for c in changes],
        )

    async def status(self, registry_number: str) -> InvoiceStatus:
        """``consultarFactura``: processing and cancellation state of one invoice."""
        answer, _ = await self._call(
            "consultarFactura", {"numeroRegistro": _id(registry_number)}, subject=registry_number
        )
        return self._parse("consultarFactura", lambda: InvoiceStatus.from_wire(section(answer, "factura")))

    async def statuses(self, registry_numbers: Sequence[str]) -> list[ItemResult]:
        """``consultarListadoFacturas``: up to 500 invoices; each item's ``status`` when ``ok``."""
        _check_batch("consultarListadoFacturas", len(registry_numbers), MAX_QUERY_BATCH)
        return await self._batch(
            "consultarListadoFacturas",
            [_id(n) for n in registry_numbers],
            list(registry_numbers),
            write=False,
        )

    async def rcf_code(self, registry_number: str) -> str | None:
        """``consultarCodigoRCF``: the RCF number given at confirmation."""
        answer, _ = await self._call(
            "consultarCodigoRCF", {"numeroRegistro": _id(registry_number)}, subject=registry_number
        )
        return self._parse("consultarCodigoRCF", lambda: text(answer, "codigoRCF", required=False))

    async def change_rcf_code(self, registry_number: str, rcf_code: str) -> RcfCodeChanged:
        """``cambiarCodigoRCF``: correct the RCF number (a provisional one given at confirmation)."""
        if not rcf_code.strip():
            raise FaceRequestError("cambiarCodigoRCF needs the new RCF number")
        request = {"numeroRegistro": _id(registry_number), "codigoRCF": rcf_code}
        answer, result = await self._call("cambiarCodigoRCF", request, write=True, subject=registry_number)
        code = text(answer, "codigoRCF", required=False) or rcf_code
        return RcfCodeChanged(registry_number, code, result.tracking)

    # ---------------------------------------------------------------- reference data

    async def states(self) -> list[StateDefinition]:
        """``consultarEstados``: FACe's state table (processing and cancellation flows)."""
        answer, _ = await self._call("consultarEstados", None)
        rows = _list(answer, "estados", "Estado")
        return self._parse("consultarEstados", lambda: [StateDefinition.from_wire(r) for r in rows])

    async def units(self) -> list[UnitRelation]:
        """``consultarUnidades``: the DIR3 triples (office, managing body, processing unit) served."""
        answer, _ = await self._call("consultarUnidades", None)
        rows = _list(answer, "relaciones", "OGUTOC")
        return self._parse("consultarUnidades", lambda: [UnitRelation.from_wire(r) for r in rows])

    # ---------------------------------------------------------------- cancellations

    async def new_cancellations(self, office: str | None = None) -> CancellationPage:
        """``solicitarNuevasAnulaciones``: up to 500 pending cancellation requests."""
        op = "solicitarNuevasAnulaciones"
        answer, result = await self._call(op, {"oficinaContable": office or ""})
        rows = _list(answer, "facturas", op)
        requests = self._parse(op, lambda: [CancellationRequest.from_wire(r) for r in rows])
        return CancellationPage(requests, result.tracking, len(requests) >= MAX_NEW_INVOICES)

    async def answer_cancellation(self, answer: CancellationAnswer) -> ItemResult:
        """``gestionarSolicitudAnulacionFactura``: accept (→ 4300, invoice 3100) or reject (4400)."""
        if not answer.accept and not answer.comment.strip():
            raise FaceRequestError("rejecting a cancellation request needs a comment (the reason)")
        op = "gestionarSolicitudAnulacionFactura"
        reply, result = await self._call(op, answer.to_wire(), write=True, subject=answer.registry_number)
        data = reply.get("factura") if isinstance(reply.get("factura"), dict) else {}
        state = text(data, "codigo", required=False) or answer.code
        return ItemResult(answer.registry_number, "0", None, state, tracking=result.tracking)

    async def answer_cancellations(self, answers: Sequence[CancellationAnswer]) -> list[ItemResult]:
        """``gestionarSolicitudAnulacionListadoFacturas``: up to 100 answers, one result each."""
        _check_batch("gestionarSolicitudAnulacionListadoFacturas", len(answers), MAX_CHANGE_BATCH)
        return await self._batch(
            "gestionarSolicitudAnulacionListadoFacturas",
            [a.to_wire() for a in answers],
            [a.registry_number for a in answers],
        )

    # ---------------------------------------------------------------- credit assignments

    async def credit_assignment(self, registry_number: str) -> CreditAssignment:
        """``consultarEstadoCesion``: the credit assignment state of an invoice."""
        op = "consultarEstadoCesion"
        answer, result = await self._call(
            op, {"numeroRegistro": _id(registry_number)}, subject=registry_number
        )
        return self._parse(op, lambda: CreditAssignment.from_wire(answer, registry_number, result.tracking))

    async def manage_credit_assignment(
        self, registry_number: str, code: str, comment: str = ""
    ) -> CreditAssignment:
        """``gestionarCesion``: record the entity's decision on a credit assignment."""
        op = "gestionarCesion"
        request = {"numeroRegistro": _id(registry_number), "codigo": code, "comentario": comment}
        answer, result = await self._call(op, request, write=True, subject=registry_number)
        return self._parse(op, lambda: CreditAssignment.from_wire(answer, registry_number, result.tracking))

    # ---------------------------------------------------------------- machinery

    async def _batch(
        self, op: str, payload: list[Any], ids: list[str], *, write: bool = True
    ) -> list[ItemResult]:
        item = wire.LIST_REQUEST_ITEM[op]
        answer, result = await self._call(op, {item: payload}, write=write)
        rows = _list(answer, "facturas", op)
        results = self._parse(
            op, lambda: [ItemResult.from_wire(r, ids[i] if i < len(ids) else "?") for i, r in enumerate(rows)]
        )
        results = [dataclasses.replace(r, tracking=result.tracking) for r in results]
        if len(results) != len(ids):
            raise FaceProtocolError(op, f"{len(results)} results for {len(ids)} invoices")
        return results

    def _parse(self, op: str, build: Callable[[], T]) -> T:
        try:
            return build()
        except ValueError as exc:
            raise FaceProtocolError(op, str(exc)) from None

    async def _call(
        self, op: str, request: dict[str, Any] | None, *, write: bool = False, subject: str | None = None
    ) -> tuple[dict[str, Any], Result]:
        async def once() -> tuple[dict[str, Any], Result]:
            return await self._exchange(op, request, write, subject)

        if write:
            return await once()
        return await self._retrying(once)

    async def _exchange(
        self, op: str, request: dict[str, Any] | None, write: bool, subject: str | None
    ) -> tuple[dict[str, Any], Result]:
        payload = await self.blocking(self._sign, op, request)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{wire.soap_action(op)}"'}
        async with self._slots:
            await self._hold_while_rate_limited()
            response = await self._post(op, payload, headers, write)
        self.stats.calls += 1
        try:
            return await self.blocking(self._read, op, response, write, subject)
        except FaceRateLimited as exc:
            if exc.retry_after is not None and exc.retry_after <= MAX_RETRY_AFTER:
                loop_now = asyncio.get_running_loop().time()
                self._quiet_until = max(self._quiet_until, loop_now + exc.retry_after)
            raise

    async def _hold_while_rate_limited(self) -> None:
        """Wait out the last 429's Retry-After before any call (a longer one is not waited for:
        its call fails, and the work waits for the next run)."""
        wait = self._quiet_until - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _sign(self, op: str, request: dict[str, Any] | None) -> bytes:
        started = time.thread_time()
        try:
            return self.signer.sign(wire.request_envelope(op, request))
        finally:
            self._count(sign_cpu=time.thread_time() - started)

    def _count(self, *, code: str | None = None, sign_cpu: float = 0.0, verify_cpu: float = 0.0) -> None:
        with self._stats_lock:
            if code is not None:
                self.stats.by_code[code] += 1
            self.stats.sign_cpu += sign_cpu
            self.stats.verify_cpu += verify_cpu

    def _read(
        self, op: str, response: httpx.Response, write: bool, subject: str | None
    ) -> tuple[dict[str, Any], Result]:
        """The answer's value and result, or the typed error it carries (blocking: parse, verify)."""
        envelope = self._envelope(op, response, write)
        fault = wire.find_fault(envelope)
        if fault is not None:
            self._count(code=f"fault:{fault.faultcode}")
            raise FaceFault(
                op,
                fault.faultcode,
                fault.faultstring,
                status=response.status_code,
                ambiguous=write and response.status_code >= 500,
            )
        if response.status_code >= 400:
            cls = FaceServerError if response.status_code >= 500 else FaceHttpError
            raise cls(op, response.status_code, "no SOAP fault in the answer", ambiguous=write)
        body = self._verified_body(op, envelope, subject)
        try:
            answer = wire.answer_of(body, op)
            result = Result.from_wire(answer)
        except ValueError as exc:
            raise FaceProtocolError(op, str(exc)) from None
        self._count(code=result.code)
        log.debug("FACe %s %s -> %s [%s]", op, subject or "", result.code, result.tracking or "-")
        if not result.ok:
            raise result_error(
                op,
                result.code,
                result.description,
                result.tracking,
                subject=subject,
                certificate=self.signer.credentials.description,
            )
        return answer, result

    async def _post(self, op: str, payload: bytes, headers: dict[str, str], write: bool) -> httpx.Response:
        """POST and read the answer, at most ``MAX_ANSWER_BYTES`` of it, within the deadline."""
        deadline = Deadline(self.timeout)  # time.monotonic(): the event loop's clock
        chunks: list[bytes] = []
        try:
            async with asyncio.timeout_at(deadline.at()) as timeout:
                async with self._http.stream("POST", self.url, content=payload, headers=headers) as response:
                    async for chunk in response.aiter_bytes():
                        deadline.received += len(chunk)
                        if deadline.received > MAX_ANSWER_BYTES:
                            raise FaceProtocolError(op, f"answer larger than {MAX_ANSWER_BYTES} bytes")
                        chunks.append(chunk)
                        timeout.reschedule(deadline.at())
        except (httpx.TimeoutException, TimeoutError) as exc:
            reason = deadline.expired() if isinstance(exc, TimeoutError) else type(exc).__name__
            raise FaceTimeout(op, reason, ambiguous=write) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise FaceTransportError(op, _reason(exc), ambiguous=write) from None
        response._content = b"".join(chunks)  # read once, bounded; kept for the caller
        return response

    def _envelope(self, op: str, response: httpx.Response, write: bool) -> Any:
        try:
            return parse_envelope(response.content)
        except SecurityFault as exc:
            reason = not_soap(response) or exc.reason
            if response.status_code >= 500:
                raise FaceServerError(op, response.status_code, reason, ambiguous=write) from None
            if response.status_code == 429:
                raise FaceRateLimited(op, reason, retry_after(response.headers.get("retry-after"))) from None
            if response.status_code >= 400:
                raise FaceHttpError(op, response.status_code, reason) from None
            # Not FACe's answer (a proxy's page or a garbled body): a write may have been applied.
            raise FaceProtocolError(op, reason, ambiguous=write) from None

    def _verified_body(self, op: str, envelope: Any, subject: str | None) -> Any:
        started = time.thread_time()
        try:
            return verify(envelope, trusted=self._trust, accepted=self.accepted, skew=self.clock_skew).body
        except SecurityFault as exc:
            unsigned_error = self._unsigned_error(op, envelope, subject) if exc.code == "104" else None
            if unsigned_error is not None:
                raise unsigned_error from None
            raise FaceResponseSignatureError(op, exc.reason, exc.signer) from None
        finally:
            self._count(verify_cpu=time.thread_time() - started)

    def _unsigned_error(self, op: str, envelope: Any, subject: str | None) -> FaceError | None:
        """An unsigned answer that reports an error is believed as far as failing goes."""
        try:
            result = Result.from_wire(wire.answer_of(envelope.find(f"{{{wire.SOAP_NS}}}Body"), op))
        except (ValueError, wire.SoapFault):
            return None
        if result.ok:
            return None
        return result_error(
            op,
            result.code,
            f"{result.description or ''} (unsigned answer)".strip(),
            result.tracking,
            subject=subject,
            certificate=self.signer.credentials.description,
        )

    def _trust(self, cert: x509.Certificate) -> str | None:
        if cert in self.trusted:
            return None
        return f"{describe(cert)} is not FACe's pinned certificate (RCFLOW_FACE_SERVER_CERT)"

    async def _retrying(self, once: Callable[[], Awaitable[T]]) -> T:
        return await retrying(once, wait_for=_retry_wait, attempts=self.max_retries,
                              on_retry=self._count_retry)  # fmt: skip

    def _count_retry(self) -> None:
        self.stats.retries += 1


def _should_retry(exc: Exception) -> bool:
    if isinstance(exc, (FaceTransportError, FaceServerError)):
        return True
    return isinstance(exc, FaceFault) and exc.status >= 500 and not exc.client_side


def _retry_wait(exc: Exception) -> bool | float:
    """Whether a read is retried (True: after the backoff), or after how many seconds (a 429)."""
    if isinstance(exc, FaceRateLimited):
        if exc.retry_after is None:
            return True
        return exc.retry_after if exc.retry_after <= MAX_RETRY_AFTER else False
    return _should_retry(exc)


def not_soap(response: httpx.Response) -> str | None:
    """What came back instead of a SOAP answer, in a few words (None: nothing recognisable).

    A redirect names where it pointed without its query (a login URL may carry a session)."""
    status, content = response.status_code, response.content
    if 300 <= status < 400:
        where = urlsplit(response.headers.get("location", ""))
        target = f"{where.scheme}://{where.netloc}{where.path}" if where.netloc else "nowhere said"
        return f"redirected ({status}) to {target}; not followed, not FACe's answer"
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
    unknown = [c for c in codings if c and c not in DECODED]
    if unknown:
        return f"content encoding {', '.join(unknown)} cannot be decoded"
    if content[:2] == b"\x1f\x8b":
        return "a gzip-compressed body with no Content-Encoding (compressed on the way, not said)"
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    head = content[:512].lstrip().lower()
    if media_type in ("text/html", "application/xhtml+xml") or head.startswith((b"<!doctype html", b"<html")):
        kind = media_type or "no content type"
        return f"an HTML page ({kind}; e.g. a login or error page), not FACe's answer"
    if not content.strip():
        return "an empty body"
    return None


def _reason(exc: httpx.TransportError | httpx.DecodingError) -> str:
    detail = str(exc).strip()
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _id(registry_number: str) -> str:
    value = str(registry_number).strip()
    if not value:
        raise FaceRequestError("a FACe registry number (numeroRegistro) is empty")
    return value


def _list(answer: dict[str, Any], outer: str, inner: str) -> list[Any]:
    container = answer.get(outer)
    return wire.items(container.get(inner)) if isinstance(container, dict) else []


def _check_batch(op: str, count: int, cap: int) -> None:
    if count == 0:
        raise FaceRequestError(f"{op}: nothing to send")
    if count > cap:
        raise FaceRequestError(f"{op}: {count} invoices, FACe takes at most {cap} per call")


def _check_change(change: StateChange) -> None:
    if change.code in FORBIDDEN_TARGETS:
        how = {"1300": "confirm_download", "3100": "answer_cancellation (accept)"}.get(change.code, "nothing")
        raise FaceRequestError(
            f"cambiarEstadoFactura cannot set {change.code} on {change.registry_number} (use {how})"
        )
    if change.code not in STATE_NAMES or change.code.startswith("4"):
        raise FaceRequestError(f"cambiarEstadoFactura: {change.code!r} is not a processing state")
    if change.code == State.REJECTED and not change.comment.strip():
        raise FaceRequestError(f"rejecting {change.registry_number} (2600) needs the reason as comment")
    _id(change.registry_number)


__all__ = ["ClientStats", "FaceClient"]
