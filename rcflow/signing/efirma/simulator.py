"""A faithful efirma GO on loopback, for tests and the demo (``python -m rcflow.signing.efirma.simulator``).

It applies the seed's validations in the service's own order and answers with its codes: the private
key and client, a readable unprotected PDF, blocks (type, minimum, order), recipients (name, e-mail,
phone, an advanced signature needing a phone), positions inside A4 pages, e-mails and identifiers
unique per client. Documents move over time: every ``sign_after`` seconds one more block (in order)
has acted, and when the signing blocks are done the document is FIRMADO, its signed PDF served at
``url_documento``. Tests reject or cancel a document through ``/_sim``, and script faults: an HTTP
500, the ``0500`` code, an HTML page, or an answer lost after the work was done.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from rcflow.loopback import ServedApp
from rcflow.signing.signer import A4_HEIGHT_PX, A4_WIDTH_PX

PAGE_SIZE = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9]{9,11}$")
_BLOCK_TYPES = {"firma", "revision", "copia"}
_TARIFFS = {"Tarifa Personal", "Tarifa Profesional", "Tarifa Empresa"}
_ROLE = {"firma": "Firmante", "revision": "Revisor", "copia": "Copia"}


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class SimDocument:
    operation_id: str
    client_cif: str
    name: str
    keys: dict[str, str]
    blocks: list[dict[str, Any]]
    pdf: bytes
    created: float
    csv: str
    state: str = "EN PROCESO"
    downloaded: bool = False
    signed_pdf: bytes = b""
    token: str = field(default_factory=lambda: secrets.token_urlsafe(12))


@dataclass
class Fault:
    path: str
    kind: str  # http500 | code0500 | html | lose_answer
    times: int = 1


class EfirmaSim:
    """The service's state: clients by private key, documents, recipients, a request log."""

    def __init__(
        self,
        *,
        private_key: str,
        developer_cif: str,
        clients: dict[str, str],
        sign_after: float | None = 1.0,
        lose_answer_delay: float = 2.0,
    ) -> None:
        self.private_key, self.developer_cif = private_key, developer_cif
        self.clients = clients  # cif -> e-mail
        self.sign_after = sign_after
        self.lose_answer_delay = lose_answer_delay
        self.documents: dict[str, SimDocument] = {}
        self.recipients: dict[tuple[str, str], str] = {}  # (client, e-mail) -> identifier
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []  # (path, outcome code)
        self.base_url = ""
        self._lock = threading.Lock()
        self._next_id = 100000

    def __repr__(self) -> str:
        return f"EfirmaSim(documents={len(self.documents)})"

    # -- operations -------------------------------------------------------------------------

    def send(self, data: dict[str, Any], pdf: bytes | None) -> dict[str, Any]:
        client = self._authorise(data, sending=True)
        pages = _pdf_pages(pdf)
        if data.get("tarifa_cliente") and data["tarifa_cliente"] not in _TARIFFS:
            raise Refused("0030", "La tarifa introducida no existe.")
        blocks = data.get("bloques") or []
        if not isinstance(blocks, list) or not blocks:
            raise Refused("0007", "No se ha aportado información de bloques de destinatarios.")
        advanced = str(data.get("tipo_seguridad", "basica")).lower() == "avanzada"
        for block in blocks:
            _check_block(block, len(blocks), pages, advanced)
        with self._lock:
            self._check_identities(client, blocks)
            self._next_id += 1
            operation = str(self._next_id)
            keys = {str(k): str(v) for k, v in dict(data.get("campos_clave") or {}).items()}
            self.documents[operation] = SimDocument(
                operation,
                client,
                str(data.get("nombre_documento") or "documento.pdf"),
                keys,
                blocks,
                pdf or b"",
                time.monotonic(),
                csv="-".join(secrets.token_hex(2).upper() for _ in range(5)),
            )
        return {
            "id_operacion": operation,
            "estado_operacion": "0000",
            "mensaje_operacion": "El proceso de creación del documento se ha realizado con éxito.",
        }

    def listing(self, data: dict[str, Any], page: int, *, signed_only: bool) -> dict[str, Any]:
        client = self._authorise(data)
        ids = data.get("id_operacion")
        ids = {str(ids)} if isinstance(ids, str | int) else {str(i) for i in ids or []}
        keys = {str(k): str(v) for k, v in dict(data.get("campos_clave") or {}).items()}
        csv = str(data.get("CSV") or data.get("csv") or "")
        if signed_only and not (ids or keys or csv):
            raise Refused("0004", "Debes de especificar al menos un campo para la búsqueda.")
        wanted = _wanted_states(data.get("estados_documento"), signed_only)
        downloaded = data.get("descargado")
        with self._lock:
            found = []
            for doc in self.documents.values():
                self._advance(doc)
                if doc.client_cif != client or doc.state not in wanted:
                    continue
                if (ids and doc.operation_id not in ids) or (csv and doc.csv != csv):
                    continue
                if any(doc.keys.get(k) != v for k, v in keys.items()):
                    continue
                if downloaded not in (None, "") and doc.downloaded != bool(int(downloaded)):
                    continue
                found.append(doc)
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(found)
        path = "descargar_documentos_firmados" if signed_only else "descargar_documentos"
        return {
            "estado_operacion": "0000",
            "mensaje_operacion": "El proceso se ha realizado con éxito",
            "listado_documentos": [self._describe(d, signed_only) for d in chunk],
            "siguiente_pagina": f"{self.base_url}/{path}/{page + 1}" if more else "",
            "total_busqueda": str(len(found)),
        }

    def mark_downloaded(self, data: dict[str, Any]) -> dict[str, Any]:
        client = self._authorise(data)
        ids = data.get("id_operacion")
        ids = {str(ids)} if isinstance(ids, str | int) else {str(i) for i in ids or []}
        with self._lock:
            for operation in ids:
                doc = self.documents.get(operation)
                if doc is not None and doc.client_cif == client:
                    doc.downloaded = True
        return {"estado_operacion": "0000", "mensaje_operacion": "El proceso se ha realizado con éxito"}

    def signed_file(self, operation: str, token: str) -> bytes | None:
        with self._lock:
            doc = self.documents.get(operation)
            if doc is None or doc.token != token:
                return None
            self._advance(doc)
            return doc.signed_pdf or None

    def act(self, operation: str, action: str) -> None:
        """Test control: ``sign``, ``reject`` or ``cancel`` a document now."""
        with self._lock:
            doc = self.documents[operation]
            if action == "sign":
                self._finish(doc, "FIRMADO")
            else:
                doc.state = {"reject": "RECHAZADO", "cancel": "ANULADO"}[action]

    # -- internals ----------------------------------------------------------------------------

    def _authorise(self, data: dict[str, Any], *, sending: bool = False) -> str:
        if data.get("private_key") != self.private_key:
            raise Refused("0002", "La private key no es válida.")
        client = str(data.get("cif_cliente") or "")
        if sending and (not client or not _EMAIL.match(str(data.get("email_cliente") or ""))):
            raise Refused("0003", "Debe de indicar un CIF y email correcto para identificar al cliente.")
        if client not in self.clients:
            if sending:
                raise Refused("0023", "El cliente indicado no corresponde con la private key insertada.")
            raise Refused("0003", "El cliente no es válido.")
        return client

    def _check_identities(self, client: str, blocks: list[dict[str, Any]]) -> None:
        for block in blocks:
            for person in block["destinatarios"]:
                email = str(person["email_destinatario"]).lower()
                ident = str(person.get("identificador_destinatario") or email)
                known = self.recipients.get((client, email))
                if known is not None and known != ident:
                    raise Refused(
                        "0028",
                        "El valor email introducido pertenece a otro usuario y podría causar conflictos.",
                    )
                if any(i == ident and e != email for (c, e), i in self.recipients.items() if c == client):
                    raise Refused(
                        "0026",
                        "El valor identificador que ha introducido pertenece a otro "
                        "usuario y podría dar conflictos.",
                    )
        for block in blocks:
            for person in block["destinatarios"]:
                email = str(person["email_destinatario"]).lower()
                self.recipients[(client, email)] = str(person.get("identificador_destinatario") or email)

    def _advance(self, doc: SimDocument) -> None:
        if doc.state == "EN PROCESO" and self._acted(doc) >= max(int(b["orden"]) for b in doc.blocks):
            self._finish(doc, "FIRMADO")

    def _acted(self, doc: SimDocument) -> int:
        if doc.state == "FIRMADO":
            return 10**6
        if doc.state != "EN PROCESO" or not self.sign_after:
            return 0
        return int((time.monotonic() - doc.created) / self.sign_after)

    def _finish(self, doc: SimDocument, state: str) -> None:
        doc.state = state
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(doc.pdf)))
        writer.add_metadata({"/Subject": f"Firmado con efirma GO (simulador) CSV {doc.csv}"})
        out = io.BytesIO()
        writer.write(out)
        doc.signed_pdf = out.getvalue()

    def _describe(self, doc: SimDocument, signed_only: bool) -> dict[str, Any]:
        url = f"{self.base_url}/documentos/{doc.operation_id}/{doc.token}.pdf"
        item: dict[str, Any] = {
            "url_documento": url,
            "url_certificado": url + "?certificado=1",
            "campos_clave": [doc.keys],
            "CSV": doc.csv,
            "id_operacion": doc.operation_id,
        }
        if signed_only:
            return item
        acted = self._acted(doc)
        people = []
        for block in doc.blocks:
            done = 1 if acted >= int(block["orden"]) else 0
            for p in block["destinatarios"]:
                name = " ".join(
                    str(p.get(k) or "")
                    for k in ("nombre_destinatario", "apellido1_destinatario", "apellido2_destinatario")
                ).strip()
                flag = "revisado" if block["tipo_bloque"] == "revision" else "firmado"
                people.append(
                    {
                        "nombre_apellidos": name.upper(),
                        "email": p["email_destinatario"],
                        "telefono": p.get("telefono_destinatario", ""),
                        "bloqueado": 0,
                        "activo": 1,
                        "tipo": _ROLE[block["tipo_bloque"]],
                        flag: done,
                    }
                )
        return {"estado": doc.state, "destinatarios": people, "nombre_documento": doc.name, **item}


def _pdf_pages(pdf: bytes | None) -> int:
    if not pdf or not pdf.startswith(b"%PDF-"):
        raise Refused(
            "0005",
            "El formato del archivo no es válido o no es legible. Compruebe que no está "
            "protegido por contraseña y que sea un archivo PDF.",
        )
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise Refused(
                "0005",
                "El formato del archivo no es válido o no es legible. Compruebe que no "
                "está protegido por contraseña y que sea un archivo PDF.",
            )
        return len(reader.pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise Refused("0004", "El formato pdf que está subiendo no cumple con el estándar.") from exc


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _check_block(block: dict[str, Any], count: int, pages: int, advanced: bool) -> None:
    if block.get("tipo_bloque") not in _BLOCK_TYPES:
        raise Refused(
            "0032", "El valor tipo_bloque que ha introducido no es válido. Revise la documentación."
        )
    people = block.get("destinatarios") or []
    if not isinstance(people, list) or not people:
        raise Refused("0010", "No se ha aportado información de destinatarios.")
    minimum, order = _as_int(block.get("minimo")), _as_int(block.get("orden"))
    if minimum is None or not 0 < minimum <= len(people):
        raise Refused("0008", "El valor “mínimo” de un bloque no es válido.")
    if order is None or not 0 < order <= count:
        raise Refused("0009", "El valor “orden” de un bloque no es válido.")
    for person in people:
        if not str(person.get("nombre_destinatario") or "").strip():
            raise Refused("0011", "El valor “nombre_destinatario” no es válido.")
        if not _EMAIL.match(str(person.get("email_destinatario") or "")):
            raise Refused("0014", "El valor “email_destinatario” no es válido.")
        phone = str(person.get("telefono_destinatario") or "")
        if phone and (len(phone) > 12 or not _PHONE.match(phone)):
            raise Refused("0016", "El valor “telefono_destinatario” no es válido.")
        if advanced and not phone:
            raise Refused("0027", "El valor telefono_destinatario es obligatorio para firmas avanzadas.")
        for spot in person.get("firma_multiple") or []:
            page, x, y = (_as_int(spot.get(k)) for k in ("pagina", "coordenada_x", "coordenada_y"))
            if page is None or x is None or y is None:
                raise Refused("0025", "La información del cliente o la firma múltiple no es correcta.")
            if not (1 <= page <= pages and 0 <= x <= A4_WIDTH_PX and 0 <= y <= A4_HEIGHT_PX):
                raise Refused(
                    "0024",
                    "Las coordenadas indicadas superan los límites del documento. "
                    f"(Coordenada X: {x}, Coordenada Y: {y})",
                )


def _wanted_states(given: Any, signed_only: bool) -> set[str]:
    if signed_only:
        return {"FIRMADO"}
    flags = dict(given or {})
    picked = {
        state
        for flag, state in (("firmado", "FIRMADO"), ("anulado", "ANULADO"), ("rechazado", "RECHAZADO"))
        if str(flags.get(flag, "0")) == "1"
    }
    return picked or {"FIRMADO", "ANULADO", "RECHAZADO", "EN PROCESO"}


def build_app(sim: EfirmaSim) -> Starlette:
    """The service's routes plus ``/_sim`` controls, over one :class:`EfirmaSim`."""

    async def form(request: Request) -> tuple[dict[str, Any], bytes | None]:
        data = await request.form()
        raw = data.get("json")
        try:
            payload = json.loads(raw if isinstance(raw, str) else "")
        except ValueError:
            payload = None
        upload = data.get("archivo")
        pdf = await upload.read() if upload is not None and not isinstance(upload, str) else None
        return payload, pdf

    def faulty(path: str) -> Fault | None:
        for fault in sim.faults:
            if fault.path == path and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    async def handle(request: Request, path: str, work: Any, json_error_code: str) -> Response:
        fault = faulty(path)
        if fault is not None and fault.kind == "http500":
            sim.log.append((path, "500"))
            return Response("Internal Server Error", status_code=500)
        if fault is not None and fault.kind == "html":
            sim.log.append((path, "html"))
            return HTMLResponse("<html><body>Sesión caducada</body></html>")
        if fault is not None and fault.kind == "code0500":
            sim.log.append((path, "0500"))
            return JSONResponse({"estado_operacion": "0500", "mensaje_operacion": "Servicio inactivo"})
        payload, pdf = await form(request)
        try:
            if not isinstance(payload, dict):
                raise Refused(json_error_code, "No se ha podido descargar el JSON enviado.")
            answer = work(payload, pdf)
        except Refused as refusal:
            sim.log.append((path, refusal.code))
            return JSONResponse({"estado_operacion": refusal.code, "mensaje_operacion": refusal.message})
        sim.log.append((path, "0000"))
        if fault is not None and fault.kind == "lose_answer":
            await asyncio.sleep(sim.lose_answer_delay)
        return JSONResponse(answer)

    async def send(request: Request) -> Response:
        return await handle(request, "/enviar_documento", sim.send, "0022")

    async def listing(request: Request) -> Response:
        page = max(1, _as_int(request.path_params["page"]) or 1)
        return await handle(
            request, "/descargar_documentos", lambda d, _: sim.listing(d, page, signed_only=False), "0001"
        )

    async def signed_listing(request: Request) -> Response:
        page = max(1, _as_int(request.path_params["page"]) or 1)
        return await handle(
            request,
            "/descargar_documentos_firmados",
            lambda d, _: sim.listing(d, page, signed_only=True),
            "0001",
        )

    async def mark(request: Request) -> Response:
        return await handle(
            request, "/marcar_documento_descargado", lambda d, _: sim.mark_downloaded(d), "0001"
        )

    async def document(request: Request) -> Response:
        body = sim.signed_file(request.path_params["operation"], request.path_params["token"])
        sim.log.append(("/documentos", "200" if body else "404"))
        if body is None:
            return Response("not found", status_code=404)
        return Response(body, media_type="application/pdf")

    async def control(request: Request) -> Response:
        sim.act(request.path_params["operation"], request.path_params["action"])
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/enviar_documento", send, methods=["POST"]),
            Route("/descargar_documentos/{page}", listing, methods=["POST"]),
            Route("/descargar_documentos_firmados/{page}", signed_listing, methods=["POST"]),
            Route("/marcar_documento_descargado", mark, methods=["POST"]),
            Route("/documentos/{operation}/{token}.pdf", document, methods=["GET"]),
            Route("/_sim/documents/{operation}/{action}", control, methods=["POST"]),
        ]
    )


class RunningEfirma(ServedApp):
    """An efirma GO simulator served on 127.0.0.1 in a daemon thread; a context manager."""

    def __init__(self, sim: EfirmaSim, port: int = 0) -> None:
        super().__init__(build_app(sim), name="efirma GO simulator", port=port)
        self.sim = sim
        self.url = sim.base_url = self.root_url


def main() -> None:
    parser = argparse.ArgumentParser(description="A local efirma GO simulator (loopback only).")
    parser.add_argument("--port", type=int, default=8809)
    parser.add_argument("--private-key", required=True)
    parser.add_argument("--developer-cif", required=True)
    parser.add_argument("--client", action="append", default=[], metavar="CIF:EMAIL", required=True)
    parser.add_argument("--sign-after", type=float, default=5.0, help="seconds per signing block")
    args = parser.parse_args()
    clients = dict(item.split(":", 1) for item in args.client)
    running = RunningEfirma(
        EfirmaSim(
            private_key=args.private_key,
            developer_cif=args.developer_cif,
            clients=clients,
            sign_after=args.sign_after,
        ),
        port=args.port,
    )
    print(f"efirma GO simulator on {running.url}", flush=True)
    try:
        running.wait()
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
