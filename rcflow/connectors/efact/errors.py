"""Errors raised by the eFACT hub client.

    HubError                      base; ``str()`` is one operator-readable line
    ├── HubTransportError         no usable answer: connect/read errors, dropped connections
    │   ├── HubTimeout            the hub did not answer in time
    │   └── HubRateLimited        429: come back later (retried after its Retry-After; nothing applied)
    ├── HubRedirect               3xx: an answer pointing elsewhere (a login page, a proxy), never
    │                             followed, never the document, not the hub refusing anything
    ├── HubStatusError            the hub answered with an error status and body
    │   ├── HubAuthError          401, codes 1001–1012
    │   ├── HubNotFound           404, codes 2001–2003
    │   ├── HubValidationError    400, codes 3001–3008
    │   └── HubServerError        5xx, codes 9001/9002/9999
    ├── HubProtocolError          a 2xx answer we cannot read (malformed JSON, wrong shape)
    │   └── HubNotDocument        a 2xx download that is not the document (HTML page, empty, …)
    └── PayloadError              an update refused locally, before it reached the hub

No error ever carries the token or the secret: only method, path, status and the hub's body.
"""

from __future__ import annotations

ERROR_CODES: dict[int, str] = {
    1001: "no authentication token was sent",
    1002: "the token names no user (iss)",
    1003: "the token's user (iss) is not valid",
    1004: "the token has no expiry (exp)",
    1005: "the token has no issue time (iat)",
    1006: "the token has no activation time (nbf)",
    1007: "the token has no audience (aud)",
    1008: "the token has expired (check the clock)",
    1009: "the token is not valid yet (check the clock)",
    1010: "the token's lifetime exceeds 300 s",
    1011: "the token's audience is not valid",
    1012: "the secret is not valid (bad signature)",
    2001: "invoice not found",
    2002: "attachment not found",
    2003: "no state history for the invoice",
    3001: "the state is not valid",
    3002: "ANNOTATED needs an RCF registry number",
    3003: "REJECTED needs a rejection reason",
    3004: "PAID needs a payment date",
    3005: "the invoice has no registry number",
    3006: "the payment date is not YYYY-MM-DD",
    3007: "the invoice cannot be updated (not allowed from its current state)",
    3008: "a rejection reason may only be sent with REJECTED",
    9001: "the hub's database connection failed",
    9002: "the hub failed to generate the receipt",
    9999: "unexpected error in the hub",
}

# 401s that a freshly signed token may cure (clock drift, a token that aged in a queue).
RETRYABLE_AUTH_CODES = frozenset({1008, 1009})


class HubError(Exception):
    """Base class of everything the hub client raises."""


class PayloadError(HubError):
    """An update refused locally because the hub would refuse it (3001–3004, 3006, 3008)."""

    def __init__(self, code: int, message: str):
        self.code = code
        super().__init__(f"refused locally ({code}): {message}")


class HubTransportError(HubError):
    def __init__(self, method: str, path: str, reason: str):
        self.method, self.path, self.reason = method, path, reason
        super().__init__(f"{method} {path}: no answer from the hub ({reason})")


class HubTimeout(HubTransportError):
    pass


class HubRateLimited(HubTransportError):
    """429: too many requests; ``retry_after`` is the wait asked for, in seconds (None: unsaid)."""

    def __init__(self, method: str, path: str, retry_after: float | None):
        self.status, self.retry_after = 429, retry_after
        wait = f"; asked to wait {retry_after:g} s" if retry_after is not None else ""
        super().__init__(method, path, f"429 too many requests{wait}")


class HubRedirect(HubError):
    """3xx: never followed; names where it pointed (without the query, which may hold session data)."""

    def __init__(self, method: str, path: str, status: int, location: str | None):
        self.method, self.path, self.status, self.location = method, path, status, location
        where = f"to {location}" if location else "without a location"
        super().__init__(
            f"{method} {path}: redirected ({status}) {where}; not followed, not the document "
            "(a login page or a proxy in the way?)"
        )


class HubProtocolError(HubError):
    def __init__(self, method: str, path: str, reason: str):
        self.method, self.path, self.reason = method, path, reason
        super().__init__(f"{method} {path}: unreadable answer from the hub ({reason})")


class HubNotDocument(HubProtocolError):
    """A 2xx download that is not the document: refused before it is stored or acknowledged."""

    def __init__(self, method: str, path: str, reason: str):
        self.method, self.path, self.reason = method, path, reason
        HubError.__init__(self, f"{method} {path}: not the document ({reason}); left for the next run")


class HubStatusError(HubError):
    """The hub answered ``status`` with an error body (``code`` may be None if it sent none)."""

    def __init__(self, method: str, path: str, status: int, code: int | None, description: str | None):
        self.method, self.path, self.status = method, path, status
        self.code, self.description = code, description
        known = ERROR_CODES.get(code) if code is not None else None
        detail = known or description or "no error body"
        label = f"{status} {code}" if code is not None else f"{status}"
        super().__init__(f"{method} {path}: hub refused ({label}): {detail}")

    @property
    def retryable(self) -> bool:
        return False


class HubAuthError(HubStatusError):
    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_AUTH_CODES


class HubNotFound(HubStatusError):
    pass


class HubValidationError(HubStatusError):
    pass


class HubServerError(HubStatusError):
    @property
    def retryable(self) -> bool:
        return True


def status_error(
    method: str, path: str, status: int, code: int | None, description: str | None
) -> HubStatusError:
    """The exception class for an error answer."""
    if status == 401:
        cls: type[HubStatusError] = HubAuthError
    elif status == 404:
        cls = HubNotFound
    elif status >= 500:
        cls = HubServerError
    elif status == 400:
        cls = HubValidationError
    else:
        cls = HubStatusError
    return cls(method, path, status, code, description)
