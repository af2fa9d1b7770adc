"""The eFACT RCF hub: client, auth, errors, models, lifecycle states."""

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
