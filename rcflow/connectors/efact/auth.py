"""JWT bearer auth for the eFACT hub: HS256, ``aud=efact``, short-lived, re-signed early."""

from __future__ import annotations

import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning
from pydantic import SecretStr

MAX_LIFETIME = 300  # the hub refuses tokens whose exp - iat exceeds this (1010)
DEFAULT_LIFETIME = 60
SKEW_ALLOWANCE = 5  # iat/nbf are back-dated this much so a hub clock slightly behind accepts them
AUDIENCE = "efact"


class JwtSigner:
    """Signs and caches the token; never exposes the secret (not even in ``repr``)."""

    def __init__(self, issuer: str, secret: SecretStr, *, lifetime: int = DEFAULT_LIFETIME):
        if not issuer:
            raise ValueError("issuer is required")
        if not secret.get_secret_value():
            raise ValueError("secret is required")
        self.issuer = issuer
        self._secret = secret
        self.lifetime = max(5, min(int(lifetime), MAX_LIFETIME - SKEW_ALLOWANCE))
        self.clock_offset = 0.0  # hub clock minus ours, learnt from 1008/1009 answers
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"JwtSigner(issuer={self.issuer!r}, lifetime={self.lifetime}, secret='**********')"

    def claims(self, now: float | None = None) -> dict[str, object]:
        now = (time.time() if now is None else now) + self.clock_offset
        issued = int(now) - SKEW_ALLOWANCE
        return {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + SKEW_ALLOWANCE + self.lifetime,
        }

    def token(self) -> str:
        """A valid token; re-signed when less than a third of its life remains."""
        now = time.time()
        if self._token is None or now >= self._expires_at:
            claims = self.claims(now)
            with warnings.catch_warnings():
                # The hub issues the secrets (21 bytes today) and HS256 is all it accepts: the
                # key length is the hub's choice, not something an operator can act on.
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
                self._token = jwt.encode(claims, self._secret.get_secret_value(), algorithm="HS256")
            self._expires_at = now + self.lifetime * 2 / 3
        return self._token

    def invalidate(self, server_date: str | None = None) -> None:
        """Drop the cached token; learn the hub's clock from its ``Date`` header when given."""
        self._token = None
        if server_date:
            try:
                from email.utils import parsedate_to_datetime

                self.clock_offset = parsedate_to_datetime(server_date).timestamp() - time.time()
            except (TypeError, ValueError):
                pass
