"""rcflow's configuration, in one place: environment variables ``RCFLOW_*`` (or a ``.env``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LANGUAGES = ("ca", "es", "en")  # the reports' languages (rcflow.reports.i18n holds their catalogues)
TEST_HUB_URL = "https://efact-pre.aoc.cat/rcf"
PRO_HUB_URL = "https://efact.aoc.cat/rcf"


class ConfigError(Exception):
    """A configuration problem, worded for the operator on one line."""


class Settings(BaseSettings):
    """Validated settings. The secret is a ``SecretStr``: it never prints."""

    model_config = SettingsConfigDict(env_prefix="RCFLOW_", env_file=".env", extra="ignore")

    hub_url: str = Field(default="", description="Base URL of the eFACT RCF API")
    issuer: str = Field(default="", description="Integrator code (JWT iss)")
    secret: SecretStr = Field(default=SecretStr(""), description="HMAC secret for HS256")
    warehouse: Path = Field(default=Path("data/warehouse.duckdb"))
    concurrency: int = Field(default=8, ge=1, le=256)
    workers: int = Field(
        default=2, ge=1, le=32, description="Processes sharing the sync's downloads (1: the sync's own)"
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

    @field_validator("hub_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise ValueError(f"RCFLOW_HUB_URL is not an http(s) URL: {value!r}")
        return value

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

    def require_hub(self) -> Settings:
        """Fail with one line naming every missing hub setting."""
        missing = [
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
        if missing:
            raise ConfigError("; ".join(missing))
        return self


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; every invalid value is named in one ``ConfigError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        label = "invalid setting" if len(problems) == 1 else f"{len(problems)} invalid settings"
        raise ConfigError(f"{label}: " + "; ".join(problems)) from None


def _problem(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "settings"
    message = str(error["msg"]).removeprefix("Value error, ")
    name = f"RCFLOW_{field.upper()}"
    if message.startswith(name):  # the validator already named it
        return message
    given = error.get("input")
    if field != "secret" and isinstance(given, str | int | float) and str(given) not in message:
        message += f" (got {str(given)[:60]!r})"
    return f"{name}: {message}"
