"""FACe settings: environment variables ``RCFLOW_FACE_*`` (or a ``.env``), validated in one line.

The certificate password is a ``SecretStr``; the certificate file is read only when the client
is built (:func:`rcflow.connectors.face.credentials.load_credentials`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rcflow.connectors.face.errors import FaceConfigError

STAGING_URL = "https://se-face-webservice.redsara.es/facturasrcf2"
PRODUCTION_URL = "https://webservice.face.gob.es/facturasrcf2"
SIGNATURE_ALGORITHMS = ("sha1", "sha256", "sha512")


class FaceSettings(BaseSettings):
    """What the FACe connector needs; ``repr`` never shows the password."""

    model_config = SettingsConfigDict(env_prefix="RCFLOW_FACE_", env_file=".env", extra="ignore")

    url: str = Field(default="", description="FACe's RCF web service (staging or production)")
    cert: Path | None = Field(default=None, description="PKCS#12 (.p12/.pfx) or PEM with the key")
    cert_password: SecretStr = Field(default=SecretStr(""), description="Passphrase of RCFLOW_FACE_CERT")
    server_cert: Path | None = Field(
        default=None, description="PEM with FACe's signing certificate(s): answers must verify against one"
    )
    offices: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="DIR3 accounting offices to drain, comma-separated"
    )
    signature_algorithm: str = Field(default="sha512", description="rsa-sha1, rsa-sha256 or rsa-sha512")
    timestamp_ttl: int = Field(default=300, ge=10, le=3600, description="wsu:Timestamp lifetime, s")
    concurrency: int = Field(default=4, ge=1, le=64)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=10)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/").removesuffix("?wsdl")
        if value and (urlparse(value).scheme not in {"http", "https"} or not urlparse(value).netloc):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value

    @field_validator("offices", mode="before")
    @classmethod
    def _split_offices(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip().upper() for part in value.split(",") if part.strip())
        return value

    @field_validator("signature_algorithm")
    @classmethod
    def _check_algorithm(cls, value: str) -> str:
        value = value.strip().lower().removeprefix("rsa-")
        if value not in SIGNATURE_ALGORITHMS:
            raise ValueError(f"one of {', '.join('rsa-' + a for a in SIGNATURE_ALGORITHMS)}")
        return value

    def require(self) -> FaceSettings:
        """Fail with one line when the connection is not fully configured."""
        if not self.url:
            raise FaceConfigError(
                f"RCFLOW_FACE_URL is not set (staging: {STAGING_URL}, production: {PRODUCTION_URL})"
            )
        if self.cert is None:
            raise FaceConfigError("RCFLOW_FACE_CERT is not set (the PKCS#12 or PEM registered in FACe)")
        if self.server_cert is None:
            raise FaceConfigError("RCFLOW_FACE_SERVER_CERT is not set (FACe's public signing certificate)")
        return self


def load_face_settings(**overrides: object) -> FaceSettings:
    """Settings from the environment; validation errors become one-line ``FaceConfigError``s."""
    try:
        return FaceSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise FaceConfigError(f"invalid RCFLOW_FACE_{field.upper()}: {message}") from None
