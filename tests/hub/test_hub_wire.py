"""The eFACT client's header-block reader (rcflow.connectors.efact.wire) against http.client's."""

from __future__ import annotations

import http.client
import io
import socket
import threading

import pytest

from rcflow.connectors.efact.wire import MAX_HEADERS, Connection, read_fields


def test_fields_as_http_client_reads_them() -> None:
    block = (b"Content-Type: application/json\r\nX-Dup: one\r\nx-dup: two\r\n"
             b"Folded: first\r\n  second\r\nnot a header line\r\nRetry-After:  7 \r\n\r\nbody")  # fmt: skip
    fp = io.BytesIO(block)
    fields = read_fields(fp)
    assert fields.get("content-type") == fields.get("CONTENT-TYPE") == "application/json"
    assert fields.get("x-dup") == "one"  # the first, as email.message.Message.get
    assert fields.get_all("X-Dup") == ["one", "two"]
    assert fields.get("folded") == "first second"
    assert fields.get("retry-after") == "7"
    assert fields.get("missing", "d") == "d"
    assert ("not a header line", "") not in fields.items()
    assert fp.read() == b"body"  # the blank line ends the block


def test_limits_are_http_client_s() -> None:
    with pytest.raises(http.client.LineTooLong):
        read_fields(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))
    many = b"".join(b"X-%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n"
    with pytest.raises(http.client.HTTPException, match="headers"):
        read_fields(io.BytesIO(many))


def _serve_once(answer: bytes) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer_one() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(answer)
        server.close()

    threading.Thread(target=answer_one, daemon=True).start()
    return server.getsockname()[1]


@pytest.mark.parametrize(
    ("answer", "body", "will_close"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello", False),
        (b"HTTP/1.1 100 Continue\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhi", b"hi", True),
        (b"HTTP/1.0 200 OK\r\n\r\nold", b"old", True),
    ],
)
def test_a_connection_reads_bodies_as_http_client(answer: bytes, body: bytes, will_close: bool) -> None:
    conn = Connection("127.0.0.1", _serve_once(answer), timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.will_close is will_close
    assert response.read() == body
    conn.close()


class _Recorder:
    """A connected socket that keeps what is sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def close(self) -> None:
        pass


def _sent(conn: http.client.HTTPConnection, send: object) -> bytes:
    recorder = _Recorder()
    conn.sock = recorder  # type: ignore[assignment]
    send()  # type: ignore[operator]
    return b"".join(recorder.sent)


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
def test_send_request_writes_what_http_client_would_in_one_write(
    host: str, port: int, method: str, target: str, headers: dict[str, str], body: bytes | None
) -> None:
    headers = {"User-Agent": "rcflow/0.1", "Authorization": "Bearer a.b.c", **headers}
    fields = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
    plain = http.client.HTTPConnection(host, port)
    theirs = _sent(plain, lambda: plain.request(method, target, body=body, headers=headers))
    ours = Connection(host, port)
    recorder = _Recorder()
    ours.sock = recorder  # type: ignore[assignment]
    ours.send_request(method, target, fields, body)
    assert len(recorder.sent) == 1 and recorder.sent[0] == theirs


def test_send_request_keeps_http_client_s_rules() -> None:
    conn = Connection("127.0.0.1", 8080)
    conn.sock = _Recorder()  # type: ignore[assignment]
    with pytest.raises(http.client.InvalidURL):
        conn.send_request("GET", "/a b\r\nX-Injected: 1", b"")
    conn.send_request("GET", "/", b"")
    with pytest.raises(http.client.CannotSendRequest):  # its answer was not read yet
        conn.send_request("GET", "/", b"")
