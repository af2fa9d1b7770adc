"""Errors raised by the FACe connector; ``str()`` of each is one operator-readable line.

    FaceError
    ├── FaceConfigError            settings or the certificate file (never shows the password)
    ├── FaceRequestError           refused locally, before anything was sent (caps, forbidden targets)
    ├── FaceTransportError         no usable answer: connect/read errors, dropped connections
    │   └── FaceTimeout
    ├── FaceHttpError              an HTTP error status without a SOAP answer we can read
    │   ├── FaceServerError        5xx (retried)
    │   └── FaceRateLimited        429 (a read retried after its Retry-After, unless too long)
    ├── FaceFault                  a SOAP Fault (faultcode, faultstring)
    ├── FaceProtocolError          an answer we cannot read (not XML, wrong shape, bad base64)
    ├── FaceResponseSignatureError FACe's answer is unsigned, badly signed or signed by a stranger
    └── FaceResultError            ``resultado.codigo`` is not 0 (code, description, tracking code)
        ├── FaceUndefinedError         001
        ├── FaceSecurityError          1xx: FACe refused our signature (says which certificate)
        ├── FaceSignatureServiceError  2xx: FACe's certificate validation service (@firma)
        └── FaceBusinessError          3xx–9xx
            ├── FaceOfficeError            411 the accounting office does not exist or is inactive
            ├── FaceNoInvoices             501 nothing of that office for this RCF
            ├── FaceAlreadyConfirmed       502 confirmed already: it can no longer be downloaded
            ├── FaceTransitionRefused      505 the state change is not allowed
            └── FaceInvoiceNotFound        511 no such invoice, or not ours

Writes (confirm, state changes, cancellation answers, RCF code) are sent once: a transport error, a
5xx or an answer that is not FACe's (``FaceProtocolError``: a proxy's page, a garbled body) on a
write has ``ambiguous = True`` (it may have been applied; read the invoice back first).
"""

from __future__ import annotations

from rcflow.connectors.face.codes import RESULT_DESCRIPTIONS, Range, result_range


class FaceError(Exception):
    """Base class of everything the FACe connector raises."""


class FaceConfigError(FaceError):
    """A configuration or certificate problem, worded for the operator."""


class FaceRequestError(FaceError):
    """A call refused locally because FACe would refuse it."""


class FaceTransportError(FaceError):
    def __init__(self, operation: str, reason: str, *, ambiguous: bool = False):
        self.operation, self.reason, self.ambiguous = operation, reason, ambiguous
        super().__init__(f"{operation}: no answer from FACe ({reason})")


class FaceTimeout(FaceTransportError):
    pass


class FaceHttpError(FaceError):
    def __init__(self, operation: str, status: int, detail: str = "", *, ambiguous: bool = False):
        self.operation, self.status, self.ambiguous = operation, status, ambiguous
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{operation}: FACe answered HTTP {status}{suffix}")


class FaceServerError(FaceHttpError):
    pass


class FaceRateLimited(FaceHttpError):
    """429 from FACe or a front before it; ``retry_after`` in seconds when it said."""

    def __init__(self, operation: str, detail: str, retry_after: float | None):
        self.retry_after = retry_after
        wait = f" (asked to wait {retry_after:g} s)" if retry_after is not None else ""
        super().__init__(operation, 429, f"too many requests{wait}; {detail}")


class FaceFault(FaceError):
    def __init__(
        self, operation: str, faultcode: str, faultstring: str, *, status: int = 500, ambiguous: bool = False
    ):
        self.operation, self.faultcode, self.faultstring = operation, faultcode, faultstring
        self.status = status
        self.ambiguous = ambiguous and not self.client_side
        super().__init__(f"{operation}: FACe answered a SOAP fault ({faultcode}): {faultstring}")

    @property
    def client_side(self) -> bool:
        """SOAP 1.1: a ``Client`` fault is ours to fix; retrying cannot help."""
        return self.faultcode.rsplit(":", 1)[-1].startswith("Client")


class FaceProtocolError(FaceError):
    def __init__(self, operation: str, reason: str, *, ambiguous: bool = False):
        self.operation, self.reason, self.ambiguous = operation, reason, ambiguous
        super().__init__(f"{operation}: unreadable answer from FACe ({reason})")


class FaceResponseSignatureError(FaceError):
    def __init__(self, operation: str, reason: str, signer: str | None = None):
        self.operation, self.reason, self.signer = operation, reason, signer
        by = f" (signed by {signer})" if signer else ""
        super().__init__(f"{operation}: FACe's answer failed signature verification: {reason}{by}")


class FaceResultError(FaceError):
    """``resultado.codigo`` was not 0."""

    def __init__(
        self,
        operation: str,
        code: str,
        description: str | None,
        tracking: str | None,
        *,
        subject: str | None = None,
        hint: str = "",
    ):
        self.operation, self.code, self.tracking, self.subject = operation, code, tracking, subject
        self.description = description or RESULT_DESCRIPTIONS.get(code) or "no description"
        about = f" {subject}" if subject else ""
        track = f" [seguimiento {tracking}]" if tracking else ""
        extra = f"; {hint}" if hint else ""
        super().__init__(f"{operation}{about}: FACe refused ({code}): {self.description}{extra}{track}")


class FaceUndefinedError(FaceResultError):
    pass


class FaceSecurityError(FaceResultError):
    pass


class FaceSignatureServiceError(FaceResultError):
    pass


class FaceBusinessError(FaceResultError):
    pass


class FaceOfficeError(FaceBusinessError):
    pass


class FaceNoInvoices(FaceBusinessError):
    pass


class FaceAlreadyConfirmed(FaceBusinessError):
    pass


class FaceTransitionRefused(FaceBusinessError):
    pass


class FaceInvoiceNotFound(FaceBusinessError):
    pass


_BY_CODE: dict[str, type[FaceBusinessError]] = {
    "411": FaceOfficeError,
    "501": FaceNoInvoices,
    "502": FaceAlreadyConfirmed,
    "505": FaceTransitionRefused,
    "511": FaceInvoiceNotFound,
}
_BY_RANGE: dict[Range, type[FaceResultError]] = {
    Range.UNDEFINED: FaceUndefinedError,
    Range.SECURITY: FaceSecurityError,
    Range.SIGNATURE_SERVICE: FaceSignatureServiceError,
    Range.BUSINESS: FaceBusinessError,
}


def result_error(
    operation: str,
    code: str,
    description: str | None,
    tracking: str | None,
    *,
    subject: str | None = None,
    certificate: str | None = None,
) -> FaceResultError:
    """The typed error for a non-zero result; a 1xx names the certificate that signed the request."""
    rng = result_range(code)
    cls = _BY_CODE.get(code) or _BY_RANGE.get(rng, FaceUndefinedError)
    hint = ""
    if rng is Range.SECURITY and certificate:
        hint = (
            f"request signed with {certificate}; FACe accepts only the certificate registered for "
            "the platform in its integrators' portal, valid and not a test certificate"
        )
    return cls(operation, code, description, tracking, subject=subject, hint=hint)
