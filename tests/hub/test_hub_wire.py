"""The eFACT client's HTTP/1.1 framing on asyncio (rcflow.connectors.efact.wire) against http.client's."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import io
import random
import socket
import threading

import pytest

from rcflow.connectors.deadline import MIN_BODY_RATE, Deadline
from rcflow.connectors.efact.wire import (
    HIGH_WATER,
    INBOX,
    MAX_HEADERS,
    MAX_LINE,
    Connection,
    add_field,
    host_field,
    request_bytes,
)

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops


def _serve_once(answer: bytes, *, close: bool = True) -> int:
    """A server answering one request on one connection with ``answer`` (then closing it)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_one() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(answer)
            if not close:
                conn.recv(1)  # hold the connection until the client closes it
        server.close()

    threading.Thread(target=answer_one, daemon=True).start()
    return server.getsockname()[1]


async def _exchange(port: int, method: str = "GET", timeout: float = 5.0) -> tuple[object, bytes]:
    conn = await Connection.open("127.0.0.1", port, context=None, timeout=timeout)
    try:
        conn.send(request_bytes(b"Host: 127.0.0.1\r\n", method, "/", b"", None))
        deadline = Deadline(timeout)
        head = await conn.read_head(deadline, method)
        body = b"".join([piece async for piece in conn.body(head, deadline, 4)])
        return head, body
    finally:
        conn.close()


def _theirs(answer: bytes, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", _serve_once(answer), timeout=5)
    conn.request(method, "/")
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


@pytest.mark.parametrize(
    ("answer", "body", "will_close"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nT: x\r\n\r\n", b"hello", False),
        (b"HTTP/1.1 100 Continue\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhi", b"hi", True),
        (b"HTTP/1.0 200 OK\r\n\r\nold", b"old", True),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nold", b"old", False),
        (b"HTTP/1.1 200 OK\r\n\r\nto the close", b"to the close", True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b"", False),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\nConnection: Close\r\n\r\n{}", b"{}", True),
    ],
)  # fmt: skip
def test_a_connection_reads_answers_as_http_client(answer: bytes, body: bytes, will_close: bool) -> None:
    head, ours = asyncio.run(_exchange(_serve_once(answer)))
    response, theirs = _theirs(answer)
    assert ours == theirs == body
    assert head.status == response.status and head.reason == response.reason  # type: ignore[attr-defined]
    assert head.will_close is will_close is response.will_close  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http.client.IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", http.client.IncompleteRead),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", http.client.IncompleteRead),
        (b"", http.client.RemoteDisconnected),
        (b"<html>not http</html>\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 abc OK\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/2.0 200 OK\r\n\r\n", http.client.UnknownProtocol),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_LINE + 10) + b"\r\n\r\n", http.client.LineTooLong),
        (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n",
         http.client.HTTPException),
    ],
)  # fmt: skip
def test_broken_answers_raise_http_client_s_errors(answer: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        asyncio.run(_exchange(_serve_once(answer)))
    with pytest.raises(error):
        _theirs(answer)


def test_a_stalled_answer_ends_at_the_deadline() -> None:
    port = _serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", close=False)
    with pytest.raises(TimeoutError):
        asyncio.run(_exchange(port, timeout=0.3))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_many_reads_long_and_over_the_high_water_arrives_whole(chunked: bool) -> None:
    """Six MiB: ~100 reads into the connection's 64 KiB inbox, and reading paused and resumed at
    the 4 MiB high-water mark while the body is consumed in 1 MiB pieces."""
    body = random.Random(15).randbytes(HIGH_WATER + 2 * 1024 * 1024)
    assert len(body) > 90 * INBOX
    if chunked:
        pieces = [body[k : k + 300_000] for k in range(0, len(body), 300_000)]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed
    else:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def exchange(port: int) -> bytes:
        conn = await Connection.open("127.0.0.1", port, context=None, timeout=5)
        try:
            conn.send(request_bytes(b"Host: 127.0.0.1\r\n", "GET", "/", b"", None))
            deadline = Deadline(20)
            head = await conn.read_head(deadline, "GET")
            for _ in range(500):  # let the hub's bytes pile up until reading pauses
                if conn._paused:
                    break
                await asyncio.sleep(0.01)
            assert conn._paused, "reading never paused at the high-water mark"
            return b"".join([piece async for piece in conn.body(head, deadline, 1024 * 1024)])
        finally:
            conn.close()

    received = asyncio.run(exchange(_serve_once(answer)))
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(body).hexdigest()


def test_the_deadline_moves_a_second_for_every_min_body_rate_bytes_received() -> None:
    deadline = Deadline(5.0)
    assert deadline.at() == pytest.approx(deadline.start + 5.0)
    deadline.received = 3 * MIN_BODY_RATE
    assert deadline.at() == pytest.approx(deadline.start + 8.0)
    assert 7.5 < deadline.left() <= 8.0
    assert deadline.expired() == (
        "no complete answer in time: stalled or slower than 64 KiB/s after 5 s, 196608 bytes received"
    )


def test_fields_as_http_client_reads_them() -> None:
    block = (b"Content-Type: application/json\r\nX-Dup: one\r\nx-dup: two\r\n"
             b"Folded: first\r\n  second\r\nnot a header line\r\nRetry-After:  7 \r\n")  # fmt: skip
    answer = b"HTTP/1.1 200 OK\r\n" + block + b"Content-Length: 4\r\n\r\nbody"
    head, body = asyncio.run(_exchange(_serve_once(answer)))
    fields = head.fields  # type: ignore[attr-defined]
    assert fields.get("content-type") == fields.get("CONTENT-TYPE") == "application/json"
    assert fields.get("x-dup") == "one"  # the first, as email.message.Message.get
    assert [value for name, value in fields.items() if name == "x-dup"] == ["one", "two"]
    assert fields.get("folded") == "first second"
    assert fields.get("retry-after") == "7"
    assert fields.get("missing", "d") == "d"
    assert ("not a header line", "") not in fields.items()
    assert body == b"body"
    parsed: list[tuple[str, str]] = []
    for line in io.BytesIO(block):
        add_field(parsed, line)
    assert parsed == fields.items()[:-1]  # all but the Content-Length line


@pytest.mark.parametrize(
    ("host", "port", "method", "target", "headers", "body"),
    [
        ("127.0.0.1", 8080, "GET", "/rcf/factura/1%2F2/estats", {"Accept": "application/json"}, None),
        ("hub.example.cat", 80, "GET", "/rcf/factura/7/facturae", {"Accept": "*/*"}, None),
        ("::1", 8443, "PATCH", "/rcf/factura/7",
         {"Accept": "application/json", "Content-Type": "application/json"}, b'{"estat": "DELIVERED"}'),
        ("127.0.0.1", 8080, "DELETE", "/rcf/adjunts-pendents/9", {"Accept": "application/json"}, None),
        ("127.0.0.1", 8080, "POST", "/x?a=1&b=%C3%A9", {"Accept": "application/json"}, None),
    ],
)  # fmt: skip
def test_a_request_is_what_http_client_would_send(
    host: str, port: int, method: str, target: str, headers: dict[str, str], body: bytes | None
) -> None:
    headers = {"User-Agent": "rcflow/0.1", "Authorization": "Bearer a.b.c", **headers}
    fields = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
    plain = http.client.HTTPConnection(host, port)
    sent: list[bytes] = []

    class _Recorder:
        def sendall(self, data: bytes) -> None:
            sent.append(bytes(data))

        def close(self) -> None:
            pass

    plain.sock = _Recorder()  # type: ignore[assignment]
    plain.request(method, target, body=body, headers=headers)
    assert request_bytes(host_field(host, port, 80), method, target, fields, body) == b"".join(sent)


def test_a_target_with_control_characters_is_refused() -> None:
    with pytest.raises(http.client.InvalidURL):
        request_bytes(b"Host: h\r\n", "GET", "/a b\r\nX-Injected: 1", b"", None)
