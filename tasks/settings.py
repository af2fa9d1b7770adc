"""Settings for flows: the environment, with the secret optionally from a Prefect Secret block.

Prefect 3's ``Block.load`` answers in the caller's style: inside an event loop it returns a
coroutine. So asynchronous flows use :func:`aflow_settings` (``await Secret.aload``) and
synchronous code :func:`flow_settings` (``Secret.load(..., _sync=True)``, synchronous even when a
sync subflow runs under an async parent).
"""

from __future__ import annotations

from typing import Any

from rcflow.config import ConfigError, Settings, load_settings

SECRET_BLOCK = "rcflow-hub-secret"  # the name prefect.yaml passes as `secret_block`


def flow_settings(secret_block: str | None = None, **overrides: object) -> Settings:
    """``RCFLOW_*`` from the environment; ``secret_block`` names a Prefect Secret holding the secret."""
    if secret_block:
        from prefect.blocks.system import Secret

        try:
            overrides["secret"] = _secret_text(secret_block, Secret.load(secret_block, _sync=True))
        except ValueError as exc:
            raise _missing(secret_block, exc) from None
    return _settings(overrides)


async def aflow_settings(secret_block: str | None = None, **overrides: object) -> Settings:
    """:func:`flow_settings` for asynchronous flows."""
    if secret_block:
        from prefect.blocks.system import Secret

        try:
            overrides["secret"] = _secret_text(secret_block, await Secret.aload(secret_block))
        except ValueError as exc:
            raise _missing(secret_block, exc) from None
    return _settings(overrides)


def _settings(overrides: dict[str, object]) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _secret_text(name: str, block: Any) -> str:
    """The stored text as is (``Secret.get`` would JSON-decode a secret that looks like a number)."""
    value = block.value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {name!r} must hold the hub's secret as text")
    return value


def _missing(name: str, exc: ValueError) -> Exception:
    if "Unable to find block document" not in str(exc):
        return exc
    return ConfigError(
        f"the Prefect Secret block {name!r} does not exist on this Prefect server"
        ' (create it with `python -m tasks.secret_block`, see README "Scheduling")'
    )
