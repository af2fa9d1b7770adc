"""Throw-away X.509 identities for the simulator, tests and benchmarks (never committed).

Keys are generated at run time with ``cryptography``; a self-signed certificate is enough because
FACe trusts the certificate registered for the platform, not a chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from rcflow.connectors.face.credentials import FaceCredentials


def make_identity(
    common_name: str = "rcflow FACe test",
    *,
    days: int = 30,
    key_size: int = 2048,
    not_before: datetime | None = None,
    organization: str = "rcflow tests",
) -> FaceCredentials:
    """A fresh RSA key and a self-signed certificate valid from ``not_before`` for ``days``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = not_before or datetime.now(UTC) - timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return FaceCredentials(cert, key)


def certificate_pem(credentials: FaceCredentials | x509.Certificate) -> bytes:
    cert = credentials.certificate if isinstance(credentials, FaceCredentials) else credentials
    return cert.public_bytes(serialization.Encoding.PEM)


def write_pkcs12(credentials: FaceCredentials, path: Path | str, password: str) -> Path:
    """Write the identity as a password-protected PKCS#12 file (mode 0600)."""
    path = Path(path)
    data = pkcs12.serialize_key_and_certificates(
        b"rcflow-face",
        credentials.key,
        credentials.certificate,
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    path.touch(mode=0o600)
    path.write_bytes(data)
    return path


def write_pem(credentials: FaceCredentials, path: Path | str, password: str | None = None) -> Path:
    """Write certificate and key (encrypted when ``password``) to one PEM file (mode 0600)."""
    path = Path(path)
    encryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    key = credentials.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.touch(mode=0o600)
    path.write_bytes(certificate_pem(credentials) + key)
    return path
