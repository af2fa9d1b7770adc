"""The eFACT client over TLS, as the real hub is reached: the certificate is verified against the
system's trust store (``SSL_CERT_FILE`` here), name included, and keep-alive works through it."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hub_support import read_request, serving
from pydantic import SecretStr

from rcflow.connectors.efact import HubTransportError
from rcflow.connectors.efact import http as hub_http
from rcflow.connectors.efact.auth import JwtSigner

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


@pytest.fixture
def tls_hub(tmp_path: Path) -> Iterator[tuple[int, Path, list[int]]]:
    """A TLS server for ``localhost`` answering every request on a connection with ``ANSWER``."""
    cert, key = _certificate(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def answer_each(raw: socket.socket) -> None:
        try:
            with context.wrap_socket(raw, server_side=True) as conn:
                while read_request(conn):
                    conn.sendall(ANSWER)
        except (ssl.SSLError, OSError):
            return

    with serving(answer_each, threaded=True) as (port, connections):
        yield port, cert, connections


def _client(port: int) -> hub_http.Http:
    signer = JwtSigner("issuer", SecretStr("a-secret-of-some-length-0123456789"))
    return hub_http.Http(f"https://localhost:{port}/rcf/", signer, max_retries=0)


def test_a_trusted_hub_answers_over_one_kept_alive_connection(
    tls_hub: tuple[int, Path, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert, connections = tls_hub
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    client = _client(port)

    async def three() -> list[bytes]:
        try:
            return [(await client.json("GET", "ens")).body for _ in range(3)]
        finally:
            client.close()

    assert asyncio.run(three()) == [b"{}"] * 3
    assert len(connections) == 1


def test_an_untrusted_certificate_is_refused_before_any_request(tls_hub: tuple[int, Path, list[int]]) -> None:
    port, _, _ = tls_hub
    client = _client(port)
    with pytest.raises(HubTransportError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(client.json("GET", "ens"))
    client.close()
