"""The one place a hub's connector is chosen from the settings (the core imports no hub package)."""

from __future__ import annotations

from typing import Any

from rcflow.connectors.base import Connector
from rcflow.store import BlobStore


def connect(settings: Any, store: BlobStore | None) -> Connector:
    """The connector of the configured hub, writing its downloads into ``store`` (None: a
    connector that downloads nothing, the push's).

    Only eFACT is wired today; FACe (``rcflow.connectors.face``) will be chosen here too."""
    from rcflow.connectors.efact.client import HubClient
    from rcflow.connectors.efact.connector import EfactConnector

    return EfactConnector(HubClient.from_settings(settings), store)
