"""The simulator's ASGI app: FACe's SOAP endpoint at ``/facturasrcf2`` and test controls at ``/_sim``.

Each call is parsed safely, its WS-Security signature checked against the registered certificates
(1xx answers as FACe gives them: a signed ``resultado``), dispatched to the hub, and answered with
a signed envelope. Faults (the eFACT simulator's engine, matched on the operation name) act around
the handler: ``before`` ones stop the call, ``after`` ones lose a call that was applied.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from cryptography import x509
from lxml import etree

from rcflow.connectors.efact.simulator.faults import Action, Decision, Faults, Injection, Phase
from rcflow.connectors.face import wire
from rcflow.connectors.face.codes import RESULT_DESCRIPTIONS
from rcflow.connectors.face.simulator.certs import certificate_pem
from rcflow.connectors.face.simulator.service import ApiError, FaceHub, tracking_code
from rcflow.connectors.face.wsse import SOAP_NS, SecurityFault, Signer, parse_envelope, verify
from rcflow.loopback import Receive, Scope, Send, close_connection, read_body

SERVICE_PATH = "/facturasrcf2"
MAX_REQUEST = 16 * 1024 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
XML = b"text/xml; charset=utf-8"
ACCEPTED = ("sha1", "sha256", "sha512")


class FaceSimulatorApp:
    """ASGI callable over a :class:`FaceHub`."""

    def __init__(self, hub: FaceHub) -> None:
        self.hub = hub
        self._signer: Signer | None = None

    def _signer_for(self, hub: FaceHub) -> Signer:
        if self._signer is None or self._signer.credentials is not hub.identity:
            self._signer = Signer(hub.identity, hub.config.response_algorithm)
        return self._signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == SERVICE_PATH and scope["method"] == "POST":
            await self._soap(receive, send)
        elif path.startswith("/_sim/"):
            await self._admin(scope, receive, send, path[len("/_sim/") :])
        else:
            await _reply(send, 404, b"Not Found", b"text/plain")

    # ------------------------------------------------------------ SOAP
    async def _soap(self, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        hub = self.hub  # a test may swap the hub while this call sleeps in a fault
        raw = await read_body(receive, MAX_REQUEST)
        envelope, operation, problem = _parse(raw)
        decision = hub.engine.decide("POST", operation or "")
        await decision.fault_delay()
        if decision.action is not None and decision.phase is Phase.BEFORE:
            if decision.action is Action.DROP:
                self._log(hub, started, operation, 0, None, (), None, decision.label)
                await close_connection(send)
                return
            status, body, code = self._fault(hub, decision, operation)
            self._log(hub, started, operation, status, code, (), None, decision.label)
            await _reply(send, status, body)
            return
        status, body, code, ids, signer, tracking = self._answer(hub, raw, envelope, operation, problem)
        if decision.action is Action.DROP or decision.action is Action.PARTIAL:
            self._log(hub, started, operation, 0, code, ids, signer, decision.label, tracking)
            if decision.action is Action.PARTIAL:
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [(b"content-type", XML), (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            await close_connection(send)
            return
        if decision.action is not None:  # after-phase error: the call was applied, its answer lost
            status, body, code = self._fault(hub, decision, operation)
            tracking = None
        self._log(hub, started, operation, status, code, ids, signer, decision.label or None, tracking)
        await decision.until_answer(started)
        await _reply(send, status, body)

    def _answer(
        self, hub: FaceHub, raw: bytes, envelope: Any, operation: str | None, problem: SecurityFault | None
    ) -> tuple[int, bytes, str | None, tuple[str, ...], str | None, str | None]:
        """(status, body, result code, registry numbers, signer, codigoSeguimiento) of a call."""
        if envelope is None or operation is None:
            fault = problem or SecurityFault("102", "no operation in the SOAP Body")
            return (
                500,
                wire.fault_envelope("soapenv:Client", f"{fault.code} {fault.reason}"),
                fault.code,
                (),
                None,
                None,
            )
        if operation not in hub.handlers:
            return (
                500,
                wire.fault_envelope("soapenv:Client", f"Operación desconocida: {operation}"),
                "unknown-operation",
                (),
                None,
                None,
            )
        try:
            verified = verify(
                envelope,
                trusted=hub.trust,
                now=hub.server_time(),
                skew=hub.config.skew_seconds,
                accepted=ACCEPTED,
            )
        except SecurityFault as exc:
            description = f"{RESULT_DESCRIPTIONS.get(exc.code, 'Error de seguridad')}: {exc.reason}"
            result = _result(exc.code, description)
            body = self._signed(hub, operation, {"resultado": result})
            return 200, body, exc.code, (), exc.signer, result["codigoSeguimiento"]
        signer = _subject(verified.certificate)
        call = verified.body.find(f"{{{wire.FACE_NS}}}{operation}")
        value = wire.read(call) if call is not None else None
        request = value.get("request") if isinstance(value, dict) else None
        ids = _registry_numbers(request)
        try:
            answer = {"resultado": _result("0", "Correcto"), **hub.dispatch(operation, request)}
            code = "0"
        except ApiError as exc:
            answer, code = {"resultado": _result(exc.code, exc.description)}, exc.code
        tracking = answer["resultado"]["codigoSeguimiento"]
        return 200, self._signed(hub, operation, answer), code, ids, signer, tracking

    def _signed(self, hub: FaceHub, operation: str, answer: dict[str, Any]) -> bytes:
        envelope = wire.response_envelope(operation, answer)
        if not hub.config.sign_responses:
            return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
        return self._signer_for(hub).sign(envelope, now=hub.server_time())

    def _fault(
        self, hub: FaceHub, decision: Decision, operation: str | None
    ) -> tuple[int, bytes, str | None]:
        if decision.body is not None:
            return decision.status, decision.body, None
        if decision.code is not None and operation:  # a FACe result code, in a signed 200 answer
            code = str(decision.code)
            return (
                200,
                self._signed(hub, operation, {"resultado": _result(code, RESULT_DESCRIPTIONS.get(code))}),
                code,
            )
        return decision.status, wire.fault_envelope("soapenv:Server", "Error interno del servidor"), "fault"

    def _log(
        self,
        hub: FaceHub,
        started: float,
        operation: str | None,
        status: int,
        code: str | None,
        ids: tuple[str, ...],
        signer: str | None,
        fault: str | None,
        tracking: str | None = None,
    ) -> None:
        hub.log.add(
            at=started,
            operation=operation,
            status=status,
            code=code,
            registry_numbers=ids,
            certificate=signer,
            fault=fault or None,
            tracking=tracking,
        )

    # ------------------------------------------------------------ test controls
    async def _admin(self, scope: Scope, receive: Receive, send: Send, rel: str) -> None:
        client = scope.get("client")
        if client and client[0] not in LOOPBACK:
            await _reply(send, 403, b'{"error": "loopback only"}', b"application/json")
            return
        raw = await read_body(receive, MAX_REQUEST) if scope["method"] == "POST" else b""
        hub = self.hub
        try:
            data = json.loads(raw) if raw.strip().startswith(b"{") else {}
            if rel == "certificate":
                await _reply(send, 200, certificate_pem(hub.identity), b"application/x-pem-file")
                return
            if rel == "register":
                hub.register(x509.load_pem_x509_certificate(raw))
                result: Any = {"registered": True}
            elif rel == "log":
                result = [asdict(r) for r in hub.log.records()]
            elif rel == "faults":
                hub.faults = Faults.from_dict(data)
                result = hub.faults.to_dict()
            elif rel == "inject":
                operation = data.pop("operation", None)
                hub.engine.inject(
                    Injection(method="POST", path_regex=f"^{operation}$" if operation else None, **data)
                )
                result = {"injected": True}
            elif rel == "cancellation":
                hub.request_cancellation(data["numeroRegistro"], data.get("motivo", "Factura duplicada"))
                result = {"requested": data["numeroRegistro"]}
            elif rel == "add-invoices":
                result = {"added": hub.add_invoices(int(data.get("count", 1)))}
            elif rel.startswith("state/"):
                inv = hub.invoice(rel.removeprefix("state/"))
                result = {
                    "state": inv.state.value,
                    "cancellation": inv.cancellation.value,
                    "rcf": inv.rcf_code,
                }
            else:
                await _reply(send, 404, b'{"error": "not found"}', b"application/json")
                return
        except (ValueError, KeyError, TypeError, ApiError) as exc:
            await _reply(send, 400, json.dumps({"error": str(exc)}).encode(), b"application/json")
            return
        await _reply(send, 200, json.dumps(result, default=str).encode(), b"application/json")


def _parse(raw: bytes) -> tuple[Any, str | None, SecurityFault | None]:
    try:
        envelope = parse_envelope(raw)
        body = envelope.find(f"{{{SOAP_NS}}}Body")
        operation, _ = wire.operation_of(body)
        return envelope, operation, None
    except SecurityFault as exc:
        return None, None, exc
    except ValueError as exc:
        return None, None, SecurityFault("103", str(exc))


def _result(code: str, description: str | None) -> dict[str, Any]:
    return {"codigo": code, "descripcion": description, "codigoSeguimiento": tracking_code()}


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _registry_numbers(request: Any) -> tuple[str, ...]:
    if not isinstance(request, dict):
        return ()
    found: list[str] = []
    for key, value in request.items():
        for item in wire.items(value):
            if key == "numeroRegistro" and isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict) and isinstance(item.get("numeroRegistro"), str):
                found.append(item["numeroRegistro"])
    return tuple(found)


async def _reply(send: Send, status: int, body: bytes, content_type: bytes = XML) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
