"""The ASGI application: the eFACT RCF API under ``/rcf`` and test controls under ``/_sim``.

A raw ASGI router keeps per-request work tiny. Faults are applied around the handler:
``before`` faults stop the request from being handled, ``after`` ones lose its answer. A
request's latency runs from its arrival to its answer, the handler's work inside it.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

from rcflow.connectors.efact.simulator.auth import AuthError, check_token
from rcflow.connectors.efact.simulator.documents import CONTENT_TYPES, Body
from rcflow.connectors.efact.simulator.errors import status_for
from rcflow.connectors.efact.simulator.faults import Action, Decision, Faults, Injection, Phase
from rcflow.connectors.efact.simulator.hub import ApiError, Hub
from rcflow.loopback import Receive, Scope, Send, close_connection, read_body

JSON = "application/json"
MAX_BODY = 256 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(slots=True)
class Reply:
    status: int
    body: Body
    content_type: str = JSON
    code: int | str | None = None
    invoice_id: str | None = None
    attachment_id: str | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_reply(data: Any, status: int = 200, **extra: Any) -> Reply:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, Body.of(raw), **extra)


class SimulatorApp:
    """ASGI callable over a ``Hub``."""

    def __init__(self, hub: Hub, prefix: str = "/rcf") -> None:
        self.hub = hub
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        CLOCK_OFFSET.set(self.hub.clock_offset_seconds)
        path: str = scope["path"]
        if path.startswith(self.prefix + "/"):
            await self._api(scope, receive, send, path[len(self.prefix):])
        elif path == "/_sim" or path.startswith("/_sim/"):
            await self._admin(scope, receive, send, path[5:])
        else:
            await _send(send, Reply(404, Body.of(self.hub.error_body(9999, "Recurs no trobat"))))

    # ------------------------------------------------------------ API
    async def _api(self, scope: Scope, receive: Receive, send: Send, rel: str) -> None:
        started = time.monotonic()
        method: str = scope["method"]
        query: str = scope["query_string"].decode("latin-1")
        decision = self.hub.engine.decide(method, rel)
        await decision.fault_delay()
        fault = decision.label or None
        # Each request is logged *before* its answer goes out, so whoever holds the answer can
        # already find the request in the log.
        if decision.action is not None and decision.phase is Phase.BEFORE:
            if decision.action is Action.DROP:
                self._log(started, method, rel, query, 0, None, None, None, None, fault)
                if method in ("PATCH", "POST", "PUT"):
                    # Closing with the body unread would make the kernel reset the connection
                    # (ECONNRESET) instead of closing it: read it, then hang up.
                    await read_body(receive, MAX_BODY)
                await close_connection(send)
                return
            reply = self._fault_reply(decision)
            self._log(started, method, rel, query, reply.status, reply.code, None, None, None,
                      fault)
            await _send(send, reply, self.hub.faults if decision.slow else None)
            return
        raw = await read_body(receive, MAX_BODY) if method in ("PATCH", "POST", "PUT") else b""
        payload = _parse_json(raw) if raw else None
        reply = self._handle(scope, method, rel, query, payload, raw)
        patch_body = payload if method == "PATCH" and isinstance(payload, dict) else None
        answer = reply
        if decision.action is not None and decision.action not in (Action.DROP, Action.PARTIAL):
            answer = self._fault_reply(decision)  # after-phase error: the work is done
        status = 0 if decision.action is Action.DROP else answer.status
        self._log(started, method, rel, query, status, answer.code, reply.invoice_id,
                  reply.attachment_id, patch_body, fault)
        if decision.action is Action.DROP:  # after-phase: the work is done, the answer lost
            await close_connection(send)
        elif decision.action is Action.PARTIAL:
            await _send_partial(send, reply)
        elif decision.action is not None:
            await _send(send, answer)
        else:
            await decision.until_answer(started)
            await _send(send, reply, self.hub.faults if decision.slow else None)

    def _fault_reply(self, d: Decision) -> Reply:
        if d.body is not None:
            return Reply(d.status, Body.of(d.body), headers=_headers(d.headers))
        code = d.code if d.code is not None else _default_code(d.status)
        return Reply(d.status, Body.of(self.hub.error_body(code)), code=code,
                     headers=_headers(d.headers))

    def _error(self, code: int, **ids: str | None) -> Reply:
        return Reply(status_for(code), Body.of(self.hub.error_body(code)), code=code, **ids)

    def _handle(self, scope: Scope, method: str, rel: str, query: str, payload: Any,
                raw: bytes) -> Reply:
        hub, cfg = self.hub, self.hub.config
        try:
            check_token(_header(scope, b"authorization"), hub.issuers,
                        clock_offset=hub.clock_offset_seconds, leeway=cfg.leeway_seconds,
                        max_lifetime=cfg.max_token_lifetime)
        except AuthError as exc:
            return self._error(exc.code)
        parts = rel.strip("/").split("/")
        inv_id = parts[1] if len(parts) > 1 and parts[0] == "factura" else None
        att_id = parts[3] if len(parts) == 4 and parts[2] == "adjunts" else None
        if parts[0] == "adjunts-pendents" and len(parts) == 2:
            att_id = parts[1]
        try:
            return self._route(method, parts, query, payload, raw, inv_id, att_id)
        except ApiError as exc:
            return self._error(exc.code, invoice_id=inv_id, attachment_id=att_id)

    def _route(self, method: str, parts: list[str], query: str, payload: Any, raw: bytes,
               inv_id: str | None, att_id: str | None) -> Reply:
        hub = self.hub
        head, n = parts[0], len(parts)
        if method == "GET" and n == 1 and head in ("factures-pendents", "adjunts-pendents"):
            params = parse_qs(query)
            nif = params.get("nif", [None])[0]
            office = params.get("oficinaComptable", [None])[0]
            if head == "factures-pendents":
                return json_reply(hub.pending_invoices(nif, office))
            return json_reply(hub.pending_attachments(nif, office))
        if method == "GET" and n == 1 and head == "ens":
            return json_reply(hub.entities())
        if method == "DELETE" and n == 2 and head == "adjunts-pendents" and att_id:
            hub.release_attachment(att_id)
            return Reply(200, Body.of(b""), attachment_id=att_id)
        if head != "factura" or inv_id is None:
            return Reply(404, Body.of(hub.error_body(9999, "Recurs no trobat")), code=9999)
        ids = {"invoice_id": inv_id, "attachment_id": att_id}
        if n == 2 and method == "GET":
            return json_reply(hub.detail(inv_id), invoice_id=inv_id)
        if n == 2 and method == "PATCH":
            if raw and payload is None:
                raise ApiError(3001)
            return json_reply(hub.update(inv_id, payload), invoice_id=inv_id)
        if method != "GET":
            return Reply(405, Body.of(hub.error_body(9999, "Mètode no permès")), code=9999)
        if n == 3 and parts[2] == "facturae":
            return Reply(200, Body.of(hub.facturae(inv_id)), "application/xml", invoice_id=inv_id)
        if n == 3 and parts[2] == "rebut":
            return Reply(200, Body.of(hub.receipt(inv_id)), "application/pdf", invoice_id=inv_id)
        if n == 3 and parts[2] == "estats":
            return json_reply(hub.history(inv_id), invoice_id=inv_id)
        if n == 4 and parts[2] == "adjunts" and att_id:
            att, body = hub.attachment(inv_id, att_id)
            return Reply(200, body, CONTENT_TYPES[att.kind], **ids)
        return Reply(404, Body.of(hub.error_body(9999, "Recurs no trobat")), code=9999, **ids)

    def _log(self, started: float, method: str, rel: str, query: str, status: int,
             code: int | str | None, invoice_id: str | None, attachment_id: str | None,
             body: dict[str, Any] | None, fault: str | None) -> None:
        self.hub.log.add(
            at=started, method=method, path=rel, query=query, status=status, code=code,
            invoice_id=invoice_id, attachment_id=attachment_id, body=body, fault=fault,
            duration_ms=round((time.monotonic() - started) * 1000, 3))

    # ------------------------------------------------------------ admin
    async def _admin(self, scope: Scope, receive: Receive, send: Send, rel: str) -> None:
        client = scope.get("client")
        if client and client[0] not in LOOPBACK:
            await _send(send, json_reply({"error": "loopback only"}, 403))
            return
        method = scope["method"]
        raw = await read_body(receive, MAX_BODY) if method == "POST" else b""
        try:
            reply = self._admin_route(method, rel, scope["query_string"].decode(), raw)
        except ApiError as exc:
            reply = json_reply({"error": exc.code}, status_for(exc.code))
        except (ValueError, TypeError) as exc:
            reply = json_reply({"error": str(exc)}, 400)
        await _send(send, reply)

    def _admin_route(self, method: str, rel: str, query: str, raw: bytes) -> Reply:
        hub = self.hub
        params = {k: v[0] for k, v in parse_qs(query).items()}
        body = json.loads(raw) if raw else {}
        if method == "GET" and rel == "/log":
            since, limit = int(params.get("since", 0)), int(params.get("limit", 10_000))
            records = hub.log.records(since)[:limit]
            return json_reply({"records": [r.to_dict() for r in records]})
        if method == "GET" and rel.startswith("/state/"):
            return json_reply(hub.state(rel[len("/state/"):]))
        if method == "GET" and rel == "/stats":
            return json_reply(hub.stats())
        if method == "POST" and rel == "/faults":
            hub.faults = Faults.from_dict(body)
            return json_reply(hub.faults.to_dict())
        if method == "GET" and rel == "/faults":
            return json_reply(hub.faults.to_dict())
        if method == "POST" and rel == "/reset-log":
            hub.log.clear()
            return json_reply({"ok": True})
        if method == "POST" and rel == "/inject":
            allowed = {"method", "path_regex", "status", "code", "drop", "partial", "after",
                       "delay_ms", "times"}
            hub.engine.inject(Injection(**{k: v for k, v in body.items() if k in allowed}))
            return json_reply({"ok": True})
        if method == "POST" and rel == "/clear-injections":
            hub.clear_injections()
            return json_reply({"ok": True})
        if method == "POST" and rel == "/add-invoices":
            return json_reply({"ids": hub.add_invoices(int(body.get("count", 1)))})
        return json_reply({"error": "not found"}, 404)


# ---------------------------------------------------------------- ASGI helpers
def _default_code(status: int) -> int:
    return {401: 1008, 404: 2001, 400: 3007}.get(status, 9999)


def _headers(pairs: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


# The hub's clock, as its Date header shows it (a skewed hub shows a skewed date, as a real one
# would); the app sets it, so uvicorn's own Date header is turned off.
CLOCK_OFFSET = ContextVar("hub_clock_offset", default=0.0)


def _start(reply: Reply) -> dict[str, Any]:
    date = formatdate(time.time() + CLOCK_OFFSET.get(), usegmt=True).encode()
    headers = [(b"content-type", reply.content_type.encode()),
               (b"content-length", str(reply.body.length).encode()), (b"date", date),
               *reply.headers]
    return {"type": "http.response.start", "status": reply.status, "headers": headers}


async def _send(send: Send, reply: Reply, slow: Faults | None = None) -> None:
    await send(_start(reply))
    if slow is None and reply.body.length < 65_536:
        await send({"type": "http.response.body", "body": reply.body.read()})
        return
    delay = slow.slow_chunk_delay_ms / 1000 if slow else 0.0
    for chunk in reply.body.chunks:
        pieces = [chunk[i:i + max(1, len(chunk) // 8)] for i in
                  range(0, len(chunk), max(1, len(chunk) // 8))] if slow else [chunk]
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            if delay:
                await asyncio.sleep(delay)
    await send({"type": "http.response.body", "body": b""})


async def _send_partial(send: Send, reply: Reply) -> None:
    data = reply.body.read()
    if len(data) < 2:
        await close_connection(send)
        return
    await send(_start(Reply(reply.status, Body(len(data), iter(())), reply.content_type,
                            headers=reply.headers)))
    await send({"type": "http.response.body", "body": data[: len(data) // 2],
                "more_body": True})
    await close_connection(send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
