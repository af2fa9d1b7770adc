"""A misbehaving front (reverse proxy) to put between rcflow and the simulator, on loopback.

Real hubs sit behind nginx, load balancers and SSO gateways that compress, redirect to a login
page, answer a "session expired" page with 200, drip a body, throttle with 429 or cut a body
short. This front does each on demand, per request path, and forwards everything else untouched:

    with start_simulator(config) as sim, start_front(sim) as front:
        front.add("gzip", r"/facturae$")                    # every Facturae file gzip-compressed
        front.add("redirect", rf"^/factura/{id}/facturae$")  # 302 to a login page, for ever
        front.add("throttle", r"^/factures-pendents$", times=2, retry_after=1)
        settings.hub_url = front.base_url

A SOAP service (FACe) takes every call as a POST to one path: a rule may also match a request
header (``header=("soapaction", r'#descargarFactura"?$')``) and the request body
(``body_regex=r"numeroRegistro>123<"``), and the front serves any root
(``start_front(sim.root_url)``; the client then talks to ``front.root_url`` + the service path).

Actions: ``gzip``, ``deflate``, ``br`` (compressed, ``Content-Encoding`` set, whatever the client
asked for), ``encoding`` (a ``Content-Encoding`` nobody can decode, ``x-custom``), ``redirect``
(302), ``html`` (200 text/html "session expired"), ``empty`` (empty 200), ``drip`` (the body
``drip_bytes`` at a time every ``drip_delay_s``), ``throttle`` (429 with ``Retry-After``),
``truncate`` (``Content-Length`` of the whole body, half of it sent, connection closed),
``bare-gzip`` (gzip-compressed with no ``Content-Encoding``: a front that forgot to say so),
``rewrite`` (the upstream answer with the first match of ``rewrite=(regex, replacement)`` replaced,
bytes: a filtering proxy that edits what it passes on). The
simulator's own request log stays the truth of what the hub served and what was acknowledged;
``front.log`` lists (method, path, action) of what the front did.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

import brotli
import httpx

from rcflow.connectors.efact.simulator.app import MAX_BODY
from rcflow.connectors.efact.simulator.server import RunningSimulator
from rcflow.loopback import Receive, Scope, Send, ServedApp, close_connection, read_body

ACTIONS = frozenset(
    {"gzip", "deflate", "br", "encoding", "redirect", "html", "empty", "drip", "throttle", "truncate",
     "bare-gzip", "rewrite"}
)  # fmt: skip
LOGIN_URL = "https://sso.example.invalid/login?session=s3cr3t-session&return=%2Frcf"
EXPIRED_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sessi\xc3\xb3 caducada</title></head>"
    b"<body><h1>Session expired</h1><p>Please log in again.</p></body></html>\n"
)
# Request headers not passed upstream (hop-by-hop, or ones the front sets itself).
_DROPPED = {b"host", b"connection", b"accept-encoding", b"content-length", b"transfer-encoding"}


@dataclass
class FrontRule:
    action: str
    path_regex: str | None = None  # searched in the path under the API prefix, e.g. "/facturae$"
    method: str | None = "GET"
    times: int | None = None  # None: for ever
    retry_after: str = "1"
    drip_bytes: int = 16
    drip_delay_s: float = 0.05
    header: tuple[str, str] | None = None  # (name, regex searched in that request header's value)
    body_regex: str | None = None  # searched in the request body (latin-1)
    rewrite: tuple[bytes, bytes] | None = None  # "rewrite": (regex, replacement) on the answer
    hits: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown front action {self.action!r}; one of {sorted(ACTIONS)}")
        if (self.action == "rewrite") != (self.rewrite is not None):
            raise ValueError("the rewrite action, and it only, takes rewrite=(regex, replacement)")
        self._pattern = re.compile(self.path_regex) if self.path_regex else None

    def matches(self, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.header is not None:
            name, regex = self.header
            if re.search(regex, headers.get(name.lower(), "")) is None:
                return False
        if self.body_regex is not None and re.search(self.body_regex, body.decode("latin-1")) is None:
            return False
        return self._pattern is None or self._pattern.search(path) is not None


class FrontApp:
    """The ASGI app: apply the first matching rule, else forward the request untouched."""

    def __init__(self, upstream_root: str, prefix: str = "/rcf") -> None:
        self.upstream_root = upstream_root.rstrip("/")
        self.prefix = prefix
        self.rules: list[FrontRule] = []
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._client: httpx.AsyncClient | None = None

    def add(self, action: str, path_regex: str | None = None, **options: Any) -> FrontRule:
        rule = FrontRule(action, path_regex, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule and the log: from now on, a faithful proxy."""
        with self._lock:
            self.rules.clear()
            self.log.clear()

    def _rule(self, method: str, rel: str, headers: dict[str, str], body: bytes) -> FrontRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, rel, headers, body):
                    rule.hits += 1
                    self.log.append((method, rel, rule.action))
                    return rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        rel = path[len(self.prefix) :] if path.startswith(self.prefix + "/") else path
        body = await read_body(receive, MAX_BODY)
        names = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rule = self._rule(method, rel, names, body)
        if rule is not None and rule.action in ("redirect", "html", "empty", "throttle"):
            await self._answer_in_place(send, rule)
            return
        status, headers, content = await self._forward(scope, method, path, body)
        if rule is None:
            await _respond(send, status, headers, content)
        elif rule.action in ("gzip", "deflate", "br", "encoding"):
            encoded = _encode(rule.action, content)
            coding = "x-custom" if rule.action == "encoding" else rule.action
            await _respond(send, status, [*headers, (b"content-encoding", coding.encode())], encoded)
        elif rule.action == "bare-gzip":
            await _respond(send, status, headers, gzip.compress(content))
        elif rule.action == "rewrite":
            assert rule.rewrite is not None
            pattern, replacement = rule.rewrite
            await _respond(send, status, headers, re.sub(pattern, replacement, content, count=1))
        elif rule.action == "drip":
            await send(_start(status, headers, len(content)))
            for i in range(0, len(content), rule.drip_bytes):
                await send({"type": "http.response.body", "body": content[i : i + rule.drip_bytes],
                            "more_body": True})  # fmt: skip
                await asyncio.sleep(rule.drip_delay_s)
            await send({"type": "http.response.body", "body": b""})
        else:  # truncate
            await send(_start(status, headers, len(content)))
            half = content[: len(content) // 2]
            await send({"type": "http.response.body", "body": half, "more_body": True})
            await close_connection(send)

    async def _answer_in_place(self, send: Send, rule: FrontRule) -> None:
        html = [(b"content-type", b"text/html; charset=utf-8")]
        if rule.action == "redirect":
            page = b"<html><body>Redirecting to the login page</body></html>"
            await _respond(send, 302, [*html, (b"location", LOGIN_URL.encode())], page)
        elif rule.action == "html":
            await _respond(send, 200, html, EXPIRED_PAGE)
        elif rule.action == "empty":
            await _respond(send, 200, [(b"content-type", b"application/xml")], b"")
        else:  # throttle
            page = b"<html><body>429 Too Many Requests</body></html>"
            await _respond(send, 429, [*html, (b"retry-after", rule.retry_after.encode())], page)

    async def _forward(
        self, scope: Scope, method: str, path: str, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=60)
        url = self.upstream_root + path
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k not in _DROPPED]
        headers.append((b"accept-encoding", b"identity"))
        response = await self._client.request(method, url, headers=headers, content=body)
        kept = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.items()
            if k.lower() in ("content-type", "date", "retry-after", "location")
        ]
        return response.status_code, kept, response.content


def _encode(action: str, content: bytes) -> bytes:
    if action == "gzip":
        return gzip.compress(content)
    if action == "deflate":
        return zlib.compress(content)  # HTTP "deflate" is the zlib format
    if action == "br":
        return brotli.compress(content)
    return zlib.compress(content)[::-1]  # "x-custom": opaque bytes


def _start(status: int, headers: list[tuple[bytes, bytes]], length: int) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(length).encode())],
    }


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send(_start(status, headers, len(body)))
    await send({"type": "http.response.body", "body": body})


class RunningFront(ServedApp):
    """The front serving on loopback in a daemon thread; a context manager."""

    def __init__(self, app: FrontApp, *, port: int = 0):
        super().__init__(app, name="misbehaving front", port=port, date_header=False)
        self.app = app
        self.base_url = self.root_url + app.prefix

    def add(self, action: str, path_regex: str | None = None, **options: Any) -> FrontRule:
        return self.app.add(action, path_regex, **options)

    def clear(self) -> None:
        self.app.clear()

    @property
    def log(self) -> list[tuple[str, str, str]]:
        return list(self.app.log)


def start_front(upstream: RunningSimulator | str, *, port: int = 0) -> RunningFront:
    """Serve a front for ``upstream`` (a running simulator or its root URL) on 127.0.0.1."""
    root = upstream.root_url if isinstance(upstream, RunningSimulator) else upstream
    return RunningFront(FrontApp(root), port=port)
