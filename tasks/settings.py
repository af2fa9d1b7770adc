"""Settings for flows: the environment, with the hubs' secrets optionally from Prefect Secret blocks.

``secret_block`` names the block holding eFACT's HMAC secret (``RCFLOW_SECRET``),
``face_password_block`` the one holding the FACe certificate's password
(``RCFLOW_FACE_CERT_PASSWORD``). A block is read only when its hub is configured (its URL set),
so one deployment may name both blocks and run where only one hub is used.

Prefect 3's ``Block.load`` answers in the caller's style: inside an event loop it returns a
coroutine. So asynchronous flows use :func:`aflow_settings` (``await Secret.aload``) and
synchronous code :func:`flow_settings` (``Secret.load(..., _sync=True)``, synchronous even when a
sync subflow runs under an async parent).
"""

from __future__ import annotations

from typing import Any

from rcflow.config import ConfigError, Settings, load_settings

SECRET_BLOCK = "rcflow-hub-secret"  # the name prefect.yaml passes as `secret_block`
FACE_PASSWORD_BLOCK = "rcflow-face-cert-password"  # and as `face_password_block`
WHAT = {"secret": "eFACT's HMAC secret", "face_cert_password": "the FACe certificate's password"}


def _wanted(secret_block: str | None, face_password_block: str | None, **overrides: object) -> dict[str, str]:
    """Setting name -> block name, for the blocks named whose hub is configured."""
    if not (secret_block or face_password_block):
        return {}
    hubs = _settings(dict(overrides)).configured_hubs()
    wanted = {"secret": secret_block if "efact" in hubs else None,
              "face_cert_password": face_password_block if "face" in hubs else None}  # fmt: skip
    return {name: block for name, block in wanted.items() if block}


def flow_settings(
    secret_block: str | None = None, face_password_block: str | None = None, **overrides: object
) -> Settings:
    """``RCFLOW_*`` from the environment, the secrets from the Prefect Secret blocks named."""
    for name, block in _wanted(secret_block, face_password_block, **overrides).items():
        from prefect.blocks.system import Secret

        try:
            overrides[name] = _secret_text(block, Secret.load(block, _sync=True), WHAT[name])
        except ValueError as exc:
            raise _missing(block, exc, name) from None
    return _settings(overrides)


async def aflow_settings(
    secret_block: str | None = None, face_password_block: str | None = None, **overrides: object
) -> Settings:
    """:func:`flow_settings` for asynchronous flows."""
    for name, block in _wanted(secret_block, face_password_block, **overrides).items():
        from prefect.blocks.system import Secret

        try:
            overrides[name] = _secret_text(block, await Secret.aload(block), WHAT[name])
        except ValueError as exc:
            raise _missing(block, exc, name) from None
    return _settings(overrides)


def _settings(overrides: dict[str, object]) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _secret_text(name: str, block: Any, what: str = WHAT["secret"]) -> str:
    """The stored text as is (``Secret.get`` would JSON-decode a secret that looks like a number)."""
    value = block.value.get_secret_value()
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {name!r} must hold {what} as text")
    return value


def _missing(name: str, exc: ValueError, setting: str = "secret") -> Exception:
    if "Unable to find block document" not in str(exc):
        return exc
    command = "python -m tasks.secret_block" + (" --face" if setting == "face_cert_password" else "")
    return ConfigError(
        f"the Prefect Secret block {name!r} does not exist on this Prefect server"
        f' (create it with `{command}`, see README "Scheduling")'
    )
