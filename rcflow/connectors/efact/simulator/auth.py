"""JWT (HS256) checks exactly as the hub documents them: codes 1001-1012, all HTTP 401.

Order: 1001 header/shape, 1012 algorithm, 1002 iss, 1003 unknown issuer, 1012 signature
(claims are trusted only after it), 1004-1007 missing claims, 1011 audience, 1010 lifetime,
1008 expired, 1009 not yet valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

AUDIENCE = "efact"


class AuthError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Issuers:
    """Known integrators and their HMAC secrets; the secrets never show in a repr."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self._keys = {iss: secret.encode() for iss, secret in secrets.items()}

    def __repr__(self) -> str:
        return f"Issuers({sorted(self._keys)})"

    def __contains__(self, issuer: object) -> bool:
        return issuer in self._keys

    def names(self) -> list[str]:
        return sorted(self._keys)

    def key(self, issuer: str) -> bytes:
        return self._keys[issuer]

    def set(self, issuer: str, secret: str) -> None:
        self._keys[issuer] = secret.encode()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _number(claims: dict[str, object], name: str, missing: int) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthError(missing)
    return float(value)


def check_token(
    authorization: str | None,
    issuers: Issuers,
    *,
    clock_offset: float = 0.0,
    leeway: float = 5.0,
    max_lifetime: int = 300,
    now: float | None = None,
) -> str:
    """Validate an ``Authorization`` header value; return the issuer or raise ``AuthError``."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthError(1001)
    parts = authorization[7:].strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise AuthError(1001)
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise AuthError(1001) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError(1001)
    if header.get("alg") != "HS256":
        raise AuthError(1012)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise AuthError(1002)
    if issuer not in issuers:
        raise AuthError(1003)
    signed = f"{parts[0]}.{parts[1]}".encode()
    expected = hmac.new(issuers.key(issuer), signed, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        raise AuthError(1012)
    exp = _number(claims, "exp", 1004)
    iat = _number(claims, "iat", 1005)
    nbf = _number(claims, "nbf", 1006)
    if "aud" not in claims:
        raise AuthError(1007)
    aud = claims["aud"]
    if aud != AUDIENCE and not (isinstance(aud, list) and aud == [AUDIENCE]):
        raise AuthError(1011)
    if exp - iat > max_lifetime:
        raise AuthError(1010)
    current = (time.time() if now is None else now) + clock_offset
    if exp < current - leeway:
        raise AuthError(1008)
    if nbf > current + leeway:
        raise AuthError(1009)
    return issuer
