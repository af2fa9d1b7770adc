"""The eFACT RCF hub: HTTP rules (``http``) over asyncio keep-alive connections (``wire``), the
client (``client``), auth, errors, models, lifecycle states, the connector the core uses
(``connector``) and the simulator (``simulator``)."""

from rcflow.connectors.efact.client import ClientStats, Download, HubClient
from rcflow.connectors.efact.errors import (
    HubAuthError,
    HubError,
    HubNotDocument,
    HubNotFound,
    HubProtocolError,
    HubRateLimited,
    HubRedirect,
    HubServerError,
    HubStatusError,
    HubTimeout,
    HubTransportError,
    HubValidationError,
    PayloadError,
)
from rcflow.connectors.efact.models import StateUpdate
from rcflow.connectors.efact.states import State

__all__ = [
    "ClientStats",
    "Download",
    "HubAuthError",
    "HubClient",
    "HubError",
    "HubNotDocument",
    "HubNotFound",
    "HubProtocolError",
    "HubRateLimited",
    "HubRedirect",
    "HubServerError",
    "HubStatusError",
    "HubTimeout",
    "HubTransportError",
    "HubValidationError",
    "PayloadError",
    "State",
    "StateUpdate",
]
