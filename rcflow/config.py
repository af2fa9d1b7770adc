"""rcflow's configuration, in one place: environment variables ``RCFLOW_*`` (or a ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("ca", "es", "en")  # the reports' languages (rcflow.reports.i18n holds their catalogues)
TEST_HUB_URL = "https://efact-pre.aoc.cat/rcf"
PRO_HUB_URL = "https://efact.aoc.cat/rcf"
FACE_STAGING_URL = "https://se-face-webservice.redsara.es/facturasrcf2"
FACE_PRODUCTION_URL = "https://webservice.face.gob.es/facturasrcf2"
# The hubs rcflow speaks to, in the order a run drains them. A hub is configured when its URL is set.
HUBS = ("efact", "face")
HUB_URL_SETTING = {"efact": "RCFLOW_HUB_URL", "face": "RCFLOW_FACE_URL"}
SECRET_FIELDS = frozenset({"secret", "face_cert_password"})  # never echoed in an error
S = TypeVar("S", bound=BaseSettings)


class ConfigError(Exception):
    """A configuration problem, worded for the operator on one line."""


class Settings(BaseSettings):
    """Validated settings. The secret is a ``SecretStr``: it never prints."""

    model_config = SettingsConfigDict(env_prefix="RCFLOW_", env_file=".env", extra="ignore")

    hub_url: str = Field(default="", description="Base URL of the eFACT RCF API (set: eFACT is a hub)")
    issuer: str = Field(default="", description="Integrator code (JWT iss)")
    secret: SecretStr = Field(default=SecretStr(""), description="HMAC secret for HS256")
    # FACe: its URL makes it a configured hub; the rest of RCFLOW_FACE_* is read by its connector
    # (rcflow.connectors.face.settings). The password is here too so that a flow can take it from
    # a Prefect Secret block, as it takes the eFACT secret.
    face_url: str = Field(default="", description="FACe's RCF web service (set: FACe is a hub)")
    face_cert_password: SecretStr = Field(
        default=SecretStr(""), description="Passphrase of RCFLOW_FACE_CERT (never logged)"
    )
    warehouse: Path = Field(default=Path("data/warehouse.duckdb"))
    concurrency: int = Field(default=8, ge=1, le=256)
    workers: int = Field(
        default=2, ge=1, le=32, description="Ignored since issue 15 (the sync downloads on its event loop)"
    )
    rate_limit: float = Field(default=0.0, ge=0.0, description="Requests/s cap; 0 = none")
    token_lifetime: int = Field(default=60, ge=5, le=300)
    timeout: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=10)
    lock_timeout: float = Field(default=600.0, ge=0, description="Seconds to wait for the writer lock")
    language: str = Field(
        default="ca", description="Language of the report pages, CSV headers and documents: ca, es or en"
    )
    signatories: Path | None = Field(default=None, description="YAML file of who signs the legal documents")
    interest_rates_file: Path | None = Field(
        default=None, description="Interest rates to add (else data/legal_interest_rates.csv)"
    )
    administrations_file: Path | None = Field(
        default=None, description="Entities forming one administration (else data/administrations.yaml)"
    )

    @field_validator("hub_url", "face_url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip().rstrip("/")
        if info.field_name == "face_url":
            value = value.removesuffix("?wsdl").rstrip("/")
        if not value:
            return value
        return check_service_url(value, f"RCFLOW_{str(info.field_name).upper()}")

    @field_validator("warehouse", mode="before")
    @classmethod
    def _check_warehouse(cls, value: Any) -> Any:
        """A DuckDB file's path: not empty, not a folder, no file where a folder must be."""
        text = str(value).strip() if value is not None else ""
        if not text:
            raise ValueError("RCFLOW_WAREHOUSE is empty: name the warehouse's DuckDB file")
        path = Path(text)
        if path.is_dir():
            raise ValueError(f"RCFLOW_WAREHOUSE {text!r} is a folder: name the DuckDB file in it "
                             f"(e.g. {str(path / 'warehouse.duckdb')!r})")  # fmt: skip
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise ValueError(f"RCFLOW_WAREHOUSE {text!r}: {str(parent)!r} is a file, not a folder")
        return path

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in LANGUAGES:
            raise ValueError(f"RCFLOW_LANGUAGE must be one of {', '.join(LANGUAGES)}: {value!r}")
        return value

    @cached_property
    def store_dir(self) -> Path:
        """The content-addressed blob store, beside the warehouse."""
        return self.warehouse.parent / "store"

    def configured_hubs(self) -> tuple[str, ...]:
        """The hubs whose URL is set (``RCFLOW_HUB_URL``: eFACT, ``RCFLOW_FACE_URL``: FACe)."""
        urls = {"efact": self.hub_url, "face": self.face_url}
        return tuple(hub for hub in HUBS if urls[hub])

    def select_hubs(self, hub: str | None = None) -> tuple[str, ...]:
        """The hubs a run drains: ``hub`` alone, or every configured one; one line if none."""
        if hub is not None:
            hub = hub.strip().lower()
            if hub not in HUBS:
                raise ConfigError(f"unknown hub {hub!r}: one of {', '.join(HUBS)}")
            if hub not in self.configured_hubs():
                raise ConfigError(f"{HUB_URL_SETTING[hub]} is not set, so {hub} is not configured ("
                                  + _URL_HINT[hub] + ")")  # fmt: skip
            return (hub,)
        hubs = self.configured_hubs()
        if not hubs:
            raise ConfigError(
                "no hub configured: set RCFLOW_HUB_URL (eFACT; " + _URL_HINT["efact"] + ") and/or"
                " RCFLOW_FACE_URL (FACe; " + _URL_HINT["face"] + ")"
            )
        return hubs

    def hub_problems(self) -> list[str]:
        """Every missing eFACT setting, each worded for the operator (empty: complete)."""
        return [
            message
            for value, message in (
                (self.hub_url, f"RCFLOW_HUB_URL is not set (TEST: {TEST_HUB_URL}, PRO: {PRO_HUB_URL})"),
                (self.issuer, "RCFLOW_ISSUER is not set (the integrator code the hub assigned)"),
                (
                    self.secret.get_secret_value(),
                    "RCFLOW_SECRET is not set (the HMAC secret the hub's support assigned)",
                ),
            )
            if not value
        ]

    def require_hub(self) -> Settings:
        """Fail with one line naming every missing eFACT setting."""
        if missing := self.hub_problems():
            raise ConfigError("; ".join(missing))
        return self


_URL_HINT = {
    "efact": f"TEST: {TEST_HUB_URL}, PRO: {PRO_HUB_URL}",
    "face": f"staging: {FACE_STAGING_URL}, production: {FACE_PRODUCTION_URL}",
}


def check_service_url(value: str, name: str) -> str:
    """``value`` (setting ``name``) if it is an http(s) URL without credentials, else a
    ``ValueError`` naming the setting (any password in it redacted)."""
    value = value.strip().rstrip("/")
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValueError(f"{name} is not an http(s) URL: {_shown_url(value)!r}")
    if "@" in parsed.netloc:  # the services authenticate with a secret, a key or a certificate
        raise ValueError(f"{name} must not carry credentials (user:password@): {_shown_url(value)!r}")
    return value


def _shown_url(value: str) -> str:
    """``value`` as an error may print it: any user-info before the host (``user:password@``)
    replaced, whatever the scheme (a mistyped scheme still carries the password)."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; every invalid value is named in one ``ConfigError``."""
    return load_config(Settings, **overrides)


def load_config(kind: type[S], **overrides: object) -> S:
    """Any ``RCFLOW_*`` settings class (``Settings``, a service's own) from the environment; every
    invalid value named in one ``ConfigError``, by its environment name, secrets never echoed."""
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        prefix = str(kind.model_config.get("env_prefix") or "RCFLOW_")
        secrets = SECRET_FIELDS | {n for n, f in kind.model_fields.items() if f.annotation is SecretStr}
        problems = [_problem(error, prefix, secrets) for error in exc.errors()]
        label = "invalid setting" if len(problems) == 1 else f"{len(problems)} invalid settings"
        raise ConfigError(f"{label}: " + "; ".join(problems)) from None


def _problem(error: Any, prefix: str = "RCFLOW_", secrets: frozenset[str] | set[str] = SECRET_FIELDS) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    name = f"{prefix}{field.upper()}"
    if message.startswith(name):  # the validator already named it
        return message
    given = error.get("input")
    if field not in secrets and isinstance(given, str | int | float) and str(given) not in message:
        message += f" (got {str(given)[:60]!r})"
    return f"{name}: {message}"
