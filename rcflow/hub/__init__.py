"""The eFACT RCF hub: client, auth, errors, models, lifecycle states."""

from rcflow.hub.client import ClientStats, Download, HubClient
from rcflow.hub.errors import (
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
from rcflow.hub.models import StateUpdate
from rcflow.hub.states import State

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
