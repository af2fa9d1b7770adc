"""The one place a hub's connector is chosen and built from the settings (the core imports no hub
package).

A hub is configured when its URL is set: ``RCFLOW_HUB_URL`` (eFACT), ``RCFLOW_FACE_URL`` (FACe);
:meth:`rcflow.config.Settings.select_hubs` narrows a run to one. :func:`check_hubs` names every
missing or unusable setting of every selected hub in one ``ConfigError`` line, before any run
starts. FACe's package (signxml, lxml) is imported only when FACe is selected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rcflow.config import HUBS, ConfigError, Settings
from rcflow.connectors.base import Connector
from rcflow.store import BlobStore

if TYPE_CHECKING:
    from rcflow.connectors.face.settings import FaceSettings

HUB_LABELS = {"efact": "eFACT", "face": "FACe"}
PKCS12_SUFFIXES = (".p12", ".pfx")


def configured_hubs(settings: Settings) -> tuple[str, ...]:
    """The hubs whose URL is set, in the order a run drains them."""
    return settings.configured_hubs()


def one_hub(settings: Settings, hub: str | None) -> str:
    """``hub``, or the one configured hub; several configured and none named is an error (the
    callers that drain them all loop over :func:`check_hubs`)."""
    hubs = settings.select_hubs(hub)
    if len(hubs) > 1:
        raise ConfigError(f"several hubs are configured ({', '.join(hubs)}): name one")
    return hubs[0]


def face_settings(settings: Settings) -> FaceSettings:
    """FACe's own settings (``RCFLOW_FACE_*``), with the URL and password ``settings`` carries (a
    flow may have taken the password from a Prefect Secret block)."""
    from rcflow.connectors.face.errors import FaceConfigError
    from rcflow.connectors.face.settings import load_face_settings

    overrides: dict[str, object] = {"url": settings.face_url}
    if settings.face_cert_password.get_secret_value():
        overrides["cert_password"] = settings.face_cert_password
    try:
        return load_face_settings(**overrides)
    except FaceConfigError as exc:
        raise ConfigError(str(exc)) from None


def face_problems(face: FaceSettings) -> list[str]:
    """Every missing or unusable FACe setting, worded for the operator (never the password)."""
    from rcflow.config import FACE_PRODUCTION_URL, FACE_STAGING_URL

    problems = []
    if not face.url:
        problems.append(f"RCFLOW_FACE_URL is not set (staging: {FACE_STAGING_URL}, "
                        f"production: {FACE_PRODUCTION_URL})")  # fmt: skip
    if face.cert is None:
        problems.append("RCFLOW_FACE_CERT is not set (the PKCS#12 or PEM file with the key of the"
                        " certificate registered for your platform in FACe)")  # fmt: skip
    elif not face.cert.is_file():
        problems.append(f"RCFLOW_FACE_CERT: no file at {face.cert}")
    elif face.cert.suffix.lower() in PKCS12_SUFFIXES and not face.cert_password.get_secret_value():
        problems.append(f"RCFLOW_FACE_CERT_PASSWORD is not set (the passphrase of {face.cert.name})")
    if face.server_cert is None:
        problems.append("RCFLOW_FACE_SERVER_CERT is not set (a PEM with FACe's public signing"
                        " certificate: its answers must verify against it)")  # fmt: skip
    elif not face.server_cert.is_file():
        problems.append(f"RCFLOW_FACE_SERVER_CERT: no file at {face.server_cert}")
    if not face.offices:
        problems.append("RCFLOW_FACE_OFFICES is not set (the DIR3 codes of the accounting offices"
                        " whose invoices rcflow receives, comma-separated)")  # fmt: skip
    return problems


def hub_problems(settings: Settings, hub: str) -> list[str]:
    """What ``hub`` still needs before it can be used (empty: ready)."""
    if hub == "efact":
        return settings.hub_problems()
    if hub == "face":
        try:
            return face_problems(face_settings(settings))
        except ConfigError as exc:
            return [str(exc)]
    raise ConfigError(f"unknown hub {hub!r}: one of {', '.join(HUBS)}")


def check_hubs(settings: Settings, hub: str | None = None) -> tuple[str, ...]:
    """The hubs a run drains (``hub`` alone, or every configured one), all ready; otherwise one
    ``ConfigError`` naming every problem of every one of them."""
    hubs = settings.select_hubs(hub)
    problems = [p for h in hubs for p in hub_problems(settings, h)]
    if problems:
        raise ConfigError("; ".join(problems))
    return hubs


def connect(
    settings: Settings,
    store: BlobStore | None,
    hub: str | None = None,
    *,
    office_of: Callable[[str], str | None] | None = None,
) -> Connector:
    """The connector of ``hub`` (``None``: the one configured hub), its settings checked first,
    writing its downloads into ``store`` (``None`` for a push, which downloads nothing).
    ``office_of``: FACe's accounting office of an invoice it did not list in this process (its
    writes name the office; a push passes the warehouse's ``accounting_office``)."""
    hub = one_hub(settings, hub)
    if problems := hub_problems(settings, hub):
        raise ConfigError("; ".join(problems))
    if hub == "efact":
        from rcflow.connectors.efact.client import HubClient
        from rcflow.connectors.efact.connector import EfactConnector

        return EfactConnector(HubClient.from_settings(settings), store)
    face_connector = _face_connector_class()
    return face_connector.from_settings(  # type: ignore[no-any-return]
        face_settings(settings), store, office_of=office_of
    )


def connect_all(settings: Settings, store: BlobStore, hub: str | None = None) -> dict[str, Connector]:
    """A connector per selected hub (``hub``, or every configured one), all checked first."""
    return {h: connect(settings, store, h) for h in check_hubs(settings, hub)}


def _face_connector_class() -> Any:
    try:
        from rcflow.connectors.face.connector import FaceConnector
    except ImportError:
        raise ConfigError(
            "RCFLOW_FACE_URL is set, but this rcflow has no FACe connector yet"
            " (rcflow.connectors.face.connector)"
        ) from None
    return FaceConnector
