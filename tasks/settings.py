"""Settings for flows: the environment, with the secret optionally from a Prefect Secret block."""

from __future__ import annotations

from rcflow.config import Settings, load_settings


def flow_settings(secret_block: str | None = None, **overrides: object) -> Settings:
    """``RCFLOW_*`` from the environment; ``secret_block`` names a Prefect Secret holding the secret."""
    if secret_block:
        from prefect.blocks.system import Secret

        overrides["secret"] = Secret.load(secret_block).get()
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})
