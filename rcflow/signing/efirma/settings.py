"""efirma GO connection settings (``RCFLOW_EFIRMA_*``); the private key is a secret."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rcflow.config import check_service_url

PRODUCTION_URL = "https://api.efirma.es"


class EfirmaSettings(BaseSettings):
    """Who calls (developer CIF + private key) and for whom (the client entity)."""

    model_config = SettingsConfigDict(env_prefix="RCFLOW_EFIRMA_", env_file=".env", extra="ignore")

    url: str = Field(default=PRODUCTION_URL, description="Base URL of the efirma GO API")
    private_key: SecretStr = Field(default=SecretStr(""), description="The integrator's private key")
    developer_cif: str = Field(default="", description="The integrator's CIF (cif_desarrollador)")
    client_cif: str = Field(default="", description="The entity's CIF (cif_cliente)")
    client_name: str = Field(default="", description="The entity's name (nombre_cliente)")
    client_email: str = Field(default="", description="The entity's e-mail (email_cliente)")
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_service_url(value, "RCFLOW_EFIRMA_URL")

    def missing(self) -> list[str]:
        """The settings a call cannot do without, by environment name."""
        needed = {
            "PRIVATE_KEY": self.private_key.get_secret_value(),
            "DEVELOPER_CIF": self.developer_cif,
            "CLIENT_CIF": self.client_cif,
        }
        return [f"RCFLOW_EFIRMA_{name}" for name, value in needed.items() if not value]
