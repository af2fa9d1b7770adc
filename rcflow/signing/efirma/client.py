"""A :class:`~rcflow.signing.signer.Signer` for efirma GO's REST/JSON API (seed 003).

Every call posts a form field ``json`` (and ``archivo`` for the PDF). Sending is not idempotent at
the service, so each document carries rcflow's reference among its ``campos_clave`` and
:meth:`EfirmaClient.send` first asks whether the service already holds it: a retry after a lost
answer, or a crash between sending and recording, never creates a second signing circuit.
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any
from urllib.parse import urlparse

import httpx
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from rcflow.signing.efirma.errors import LIST, SEND, EfirmaError, Kind, raise_for
from rcflow.signing.efirma.settings import EfirmaSettings
from rcflow.signing.signer import (
    SignatoryRole,
    SignatoryStatus,
    SignatureRequest,
    SignatureState,
    SignatureStatus,
)

log = logging.getLogger(__name__)

REFERENCE_KEY = "rcflow_ref"
_STATES = {
    "EN PROCESO": SignatureState.IN_PROCESS,
    "FIRMADO": SignatureState.SIGNED,
    "RECHAZADO": SignatureState.REJECTED,
    "ANULADO": SignatureState.CANCELLED,
}
_BLOCK_TYPES = {SignatoryRole.SIGN: "firma", SignatoryRole.REVIEW: "revision", SignatoryRole.COPY: "copia"}
_MAX_PAGES = 1000  # a listing that pages on for ever is a service fault, not a reason to loop


class EfirmaClient:
    """efirma GO for one client entity. Synchronous: a few documents a month, not a stream."""

    service = "efirma"

    def __init__(
        self,
        settings: EfirmaSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
    ) -> None:
        if missing := settings.missing():
            raise EfirmaError("configuration", "-", f"{', '.join(missing)} not set", Kind.CREDENTIALS)
        self._settings = settings
        self._base = settings.url.rstrip("/")
        self._attempts, self._backoff = attempts, backoff
        self._http = httpx.Client(timeout=settings.timeout, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:
        return f"EfirmaClient({self._base!r}, client={self._settings.client_cif!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EfirmaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the Signer interface -------------------------------------------------------------

    def send(self, request: SignatureRequest) -> str:
        reference = request.keys.get(REFERENCE_KEY, "")
        if not reference:
            raise EfirmaError("send", "-", f"the request has no {REFERENCE_KEY} key", Kind.REFUSED)
        for attempt in range(1, self._attempts + 1):
            if existing := self._live_operation(reference):
                return existing
            try:
                return self._send_once(request)
            except EfirmaError as exc:
                if exc.kind is not Kind.UNAVAILABLE or attempt == self._attempts:
                    raise
                log.info("%s; looking the document up before sending again", exc)
                time.sleep(self._backoff * attempt)
        raise AssertionError("unreachable")

    def _send_once(self, request: SignatureRequest) -> str:
        payload = self._send_payload(request)
        answer = self._post("send", "/enviar_documento", payload, file=request.pdf, retry=False)
        raise_for(
            "send", SEND, str(answer.get("estado_operacion", "")), str(answer.get("mensaje_operacion", ""))
        )
        operation = str(answer.get("id_operacion") or "")
        if not operation:
            raise EfirmaError("send", "0000", "the answer has no operation id", Kind.UNAVAILABLE)
        return operation

    def statuses(self, operation_ids: list[str] | None = None) -> list[SignatureStatus]:
        query: dict[str, Any] = {"estados_documento": {}}
        if operation_ids is not None:
            if not operation_ids:
                return []
            query["id_operacion"] = operation_ids
        return [self._status(item) for item in self._pages("list", "/descargar_documentos", query)]

    def fetch_signed(self, operation_id: str) -> bytes:
        found = list(
            self._pages("list signed", "/descargar_documentos_firmados", {"id_operacion": operation_id})
        )
        urls = [
            str(item.get("url_documento") or "")
            for item in found
            if str(item.get("id_operacion")) == operation_id
        ]
        if not urls or not urls[0]:
            raise EfirmaError(
                "download", "-", f"no signed document for operation {operation_id}", Kind.REFUSED
            )
        return self._download_pdf(operation_id, urls[0])

    def mark_downloaded(self, operation_ids: list[str]) -> None:
        if not operation_ids:
            return
        answer = self._post(
            "mark downloaded", "/marcar_documento_descargado", {"id_operacion": operation_ids}
        )
        raise_for("mark downloaded", LIST, str(answer.get("estado_operacion", "")))

    # -- internals ------------------------------------------------------------------------

    def _credentials(self) -> dict[str, str]:
        s = self._settings
        return {
            "private_key": s.private_key.get_secret_value(),
            "cif_desarrollador": s.developer_cif,
            "cif_cliente": s.client_cif,
        }

    def _send_payload(self, request: SignatureRequest) -> dict[str, Any]:
        s = self._settings
        blocks = []
        for order in sorted({p.order for p in request.signatories}):
            for role in SignatoryRole:
                people = [p for p in request.signatories if p.order == order and p.role is role]
                if people:
                    blocks.append(
                        {
                            "nombre_bloque": f"{role.value} {order}",
                            "tipo_bloque": _BLOCK_TYPES[role],
                            "minimo": len(people) if role is SignatoryRole.SIGN else 1,
                            "orden": len(blocks) + 1,
                            "destinatarios": [self._recipient(p) for p in people],
                        }
                    )
        return {
            "nombre_cliente": s.client_name or s.client_cif,
            "email_cliente": s.client_email,
            "nombre_documento": request.title,
            "tipo_documento": request.document_type,
            "tipo_seguridad": "avanzada" if request.advanced else "basica",
            "campos_clave": dict(request.keys),
            "mensaje_general": request.message,
            "enviar_url_respuesta": False,
            "notificar_cada": "-1",
            "origen": "rcflow",
            "bloques": blocks,
        }

    @staticmethod
    def _recipient(person: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "nombre_destinatario": person.name,
            "apellido1_destinatario": person.surname1,
            "apellido2_destinatario": person.surname2,
            "email_destinatario": person.email,
            "mensaje_privado": "",
            "enviar_notificacion": "si",
            "enviar_resumen": "no",
            "terminal_web": 1,
            "terminal_personal": 1,
            "terminal_corporativo": 0,
        }
        if person.phone:
            out["telefono_destinatario"] = person.phone
        if person.placements:
            out["firma_multiple"] = [
                {"pagina": p.page, "coordenada_x": p.x, "coordenada_y": p.y} for p in person.placements
            ]
        return out

    def _live_operation(self, reference: str) -> str | None:
        """The operation already holding ``reference`` and not ended by a refusal, if any."""
        for item in self._pages(
            "list",
            "/descargar_documentos",
            {"campos_clave": {REFERENCE_KEY: reference}, "estados_documento": {}},
        ):
            status = self._status(item)
            if status.keys.get(REFERENCE_KEY) == reference and status.state in (
                SignatureState.IN_PROCESS,
                SignatureState.SIGNED,
            ):
                return status.operation_id
        return None

    def _pages(self, operation: str, path: str, query: dict[str, Any]) -> Any:
        for page in range(1, _MAX_PAGES + 1):
            answer = self._post(operation, f"{path}/{page}", query)
            raise_for(operation, LIST, str(answer.get("estado_operacion", "")))
            yield from answer.get("listado_documentos") or []
            following = str(answer.get("siguiente_pagina") or "")
            if not following:
                return
            if urlparse(following).netloc not in ("", urlparse(self._base).netloc):
                raise EfirmaError(
                    operation, "-", f"the next page points to another host: {following}", Kind.UNAVAILABLE
                )
        raise EfirmaError(operation, "-", f"more than {_MAX_PAGES} pages", Kind.UNAVAILABLE)

    @staticmethod
    def _status(item: dict[str, Any]) -> SignatureStatus:
        raw_state = str(item.get("estado", "")).strip().upper()
        if raw_state not in _STATES:
            raise EfirmaError("list", "-", f"unknown document state {raw_state!r}", Kind.UNAVAILABLE)
        keys: dict[str, str] = {}
        given = item.get("campos_clave") or {}
        for entry in given if isinstance(given, list) else [given]:  # an object, or a list of them
            keys.update({str(k): str(v) for k, v in dict(entry).items()})
        people = tuple(
            SignatoryStatus(
                name=str(p.get("nombre_apellidos", "")),
                email=str(p.get("email", "")),
                role=str(p.get("tipo", "")),
                done=str(p.get("firmado", p.get("revisado", "0"))) in ("1", "true", "True"),
            )
            for p in item.get("destinatarios") or []
        )
        return SignatureStatus(
            operation_id=str(item.get("id_operacion", "")),
            state=_STATES[raw_state],
            title=str(item.get("nombre_documento", "")),
            signatories=people,
            keys=keys,
            verification_code=str(item.get("CSV", "")),
        )

    def _download_pdf(self, operation_id: str, url: str) -> bytes:
        if urlparse(url).netloc != urlparse(self._base).netloc:
            raise EfirmaError(
                "download", "-", f"the signed document's URL points to another host: {url}", Kind.REFUSED
            )
        try:
            response = self._http.get(url, headers={"Accept-Encoding": "identity"})
        except httpx.TransportError as exc:
            raise EfirmaError(
                "download", "-", f"transport error: {type(exc).__name__}", Kind.UNAVAILABLE
            ) from None
        if response.status_code != 200:
            where = response.headers.get("location", "")
            raise EfirmaError(
                "download",
                str(response.status_code),
                f"HTTP {response.status_code}{' to ' + where if where else ''}",
                Kind.UNAVAILABLE if response.status_code >= 500 else Kind.REFUSED,
            )
        body = response.content
        try:
            if not body.startswith(b"%PDF-"):
                raise PdfReadError("no PDF header")
            PdfReader(io.BytesIO(body)).pages[0]  # noqa: B018 - reading the first page proves the file
        except (PdfReadError, IndexError, ValueError) as exc:
            raise EfirmaError(
                "download",
                "-",
                f"operation {operation_id}: the signed file is not a readable PDF ({exc})",
                Kind.REFUSED,
            ) from None
        return body

    def _post(
        self,
        operation: str,
        path: str,
        payload: dict[str, Any],
        *,
        file: bytes | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        body = json.dumps({**self._credentials(), **payload}, ensure_ascii=False)
        files = {"archivo": ("document.pdf", file, "application/pdf")} if file is not None else None
        attempts = self._attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._http.post(self._base + path, data={"json": body}, files=files)
            except httpx.TransportError as exc:
                error = EfirmaError(
                    operation, "-", f"transport error: {type(exc).__name__}", Kind.UNAVAILABLE
                )
            else:
                if response.status_code < 500:
                    return self._json(operation, response)
                error = EfirmaError(
                    operation, str(response.status_code), f"HTTP {response.status_code}", Kind.UNAVAILABLE
                )
            if attempt == attempts:
                raise error
            log.info("efirma GO %s: %s; retrying", operation, error)
            time.sleep(self._backoff * attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _json(operation: str, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise EfirmaError(
                operation, str(response.status_code), f"HTTP {response.status_code}", Kind.REFUSED
            )
        try:
            answer = response.json()
        except ValueError:
            kind = response.headers.get("content-type", "?").split(";")[0]
            raise EfirmaError(operation, "-", f"the answer is not JSON ({kind})", Kind.UNAVAILABLE) from None
        if isinstance(answer, list):  # consultar_documento answers a list
            return {"estado_operacion": "0000", "listado_documentos": answer}
        if not isinstance(answer, dict):
            raise EfirmaError(operation, "-", "the answer is not a JSON object", Kind.UNAVAILABLE)
        return answer
