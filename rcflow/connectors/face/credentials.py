"""The certificate and private key that sign requests to FACe, and FACe's own certificates.

``FaceCredentials`` holds the key in memory only: its ``repr`` names the certificate (subject,
serial, expiry), never the key or the password; it refuses to be pickled, so it cannot leak into a
Prefect artifact, a cache or a worker's arguments. Errors name the file, never the password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr

from rcflow.connectors.face.errors import FaceConfigError


def describe(cert: x509.Certificate) -> str:
    """One line naming a certificate: subject, serial and validity end."""
    subject = cert.subject.rfc4514_string() or "(empty subject)"
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d")
    return f"certificate {subject} (serial {cert.serial_number:x}, valid until {until})"


@dataclass(frozen=True, eq=False, repr=False)
class FaceCredentials:
    """A signing certificate and its RSA private key."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def description(self) -> str:
        return describe(self.certificate)

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def __repr__(self) -> str:
        return f"FaceCredentials({self.description})"

    def __reduce__(self) -> object:
        raise TypeError("FaceCredentials holds a private key and cannot be pickled")


def load_credentials(
    path: Path | str, password: SecretStr | str | None = None, *, now: datetime | None = None
) -> FaceCredentials:
    """Read a PKCS#12 (``.p12``/``.pfx``) or PEM file holding the certificate and its key."""
    path = Path(path)
    secret = password.get_secret_value() if isinstance(password, SecretStr) else (password or "")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceConfigError(f"RCFLOW_FACE_CERT: cannot read {path} ({exc.strerror})") from None
    passphrase = secret.encode() if secret else None
    if b"-----BEGIN" in data:
        key, cert = _from_pem(path, data, passphrase)
    else:
        key, cert = _from_pkcs12(path, data, passphrase)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FaceConfigError(f"RCFLOW_FACE_CERT: {path} holds a non-RSA key; FACe signs with RSA")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise FaceConfigError(f"RCFLOW_FACE_CERT: the key in {path} does not belong to its {describe(cert)}")
    moment = now or datetime.now(UTC)  # certificate validity is protocol time, not business time
    if cert.not_valid_after_utc < moment:
        raise FaceConfigError(f"RCFLOW_FACE_CERT: {describe(cert)} has expired")
    if cert.not_valid_before_utc > moment:
        raise FaceConfigError(f"RCFLOW_FACE_CERT: {describe(cert)} is not valid yet")
    return FaceCredentials(cert, key)


def _from_pkcs12(path: Path, data: bytes, passphrase: bytes | None) -> tuple[object, x509.Certificate]:
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError:
        raise FaceConfigError(
            f"RCFLOW_FACE_CERT: cannot open {path}: wrong RCFLOW_FACE_CERT_PASSWORD, "
            "or not a PKCS#12/PEM file"
        ) from None
    if key is None or cert is None:
        raise FaceConfigError(f"RCFLOW_FACE_CERT: {path} must hold both the certificate and its key")
    return key, cert


def _from_pem(path: Path, data: bytes, passphrase: bytes | None) -> tuple[object, x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise FaceConfigError(f"RCFLOW_FACE_CERT: {path} holds no readable PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except TypeError:
        raise FaceConfigError(
            f"RCFLOW_FACE_CERT: the key in {path} is encrypted: set "
            "RCFLOW_FACE_CERT_PASSWORD (or it is not encrypted: unset it)"
        ) from None
    except ValueError:
        raise FaceConfigError(
            f"RCFLOW_FACE_CERT: cannot read the private key in {path}: wrong "
            "RCFLOW_FACE_CERT_PASSWORD, or no key in the file"
        ) from None
    return key, certs[0]


def load_trusted_certificates(path: Path | str) -> tuple[x509.Certificate, ...]:
    """FACe's public signing certificate(s), PEM (several allowed: a rotation overlaps two)."""
    path = Path(path)
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise FaceConfigError(f"RCFLOW_FACE_SERVER_CERT: cannot read {path} ({exc.strerror})") from None
    except ValueError:
        raise FaceConfigError(f"RCFLOW_FACE_SERVER_CERT: {path} holds no PEM certificate") from None
    return tuple(certs)
