"""efirma GO's result codes, each a one-line English reason and a kind the caller can act on.

The same code means different things on different calls (``0003`` is "client CIF and e-mail
missing" when sending and "client not valid" when listing), so the table is per operation.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    CREDENTIALS = "credentials"  # fix the configuration (private key, client CIF)
    REFUSED = "refused"  # the request or the document was refused: fix it, do not resend as is
    UNAVAILABLE = "unavailable"  # the service is down: try again later


class EfirmaError(Exception):
    """A refusal or failure of efirma GO, worded for an operator on one line."""

    def __init__(self, operation: str, code: str, reason: str, kind: Kind, detail: str = "") -> None:
        self.operation, self.code, self.reason, self.kind, self.detail = operation, code, reason, kind, detail
        suffix = f" ({detail})" if detail else ""
        super().__init__(f"efirma GO {operation}: {reason} [code {code}]{suffix}")


_C, _R, _U = Kind.CREDENTIALS, Kind.REFUSED, Kind.UNAVAILABLE

SEND: dict[str, tuple[Kind, str]] = {
    "0001": (_U, "the service could not be reached"),
    "0002": (_C, "the private key is not valid (RCFLOW_EFIRMA_PRIVATE_KEY)"),
    "0003": (_C, "the client needs a valid CIF and e-mail (RCFLOW_EFIRMA_CLIENT_CIF/_EMAIL)"),
    "0004": (_R, "the PDF does not follow the PDF standard"),
    "0005": (_R, "the file is not a readable PDF (is it password-protected?)"),
    "0006": (_R, "the service could not receive the document"),
    "0007": (_R, "no block of signatories was given"),
    "0008": (_R, "a block's minimum of signatories is not valid"),
    "0009": (_R, "a block's order is not valid"),
    "0010": (_R, "a block has no signatories"),
    "0011": (_R, "a signatory's name is not valid"),
    "0014": (_R, "a signatory's e-mail is not valid"),
    "0016": (_R, "a signatory's phone number is not valid"),
    "0022": (_R, "the service could not read the request's JSON"),
    "0023": (_C, "the client CIF does not belong to this private key"),
    "0024": (_R, "a signature position is outside the document's pages"),
    "0025": (_R, "the client data or the signature positions are not correct"),
    "0026": (_R, "a signatory identifier belongs to another user"),
    "0027": (_R, "an advanced signature needs every signatory's phone number"),
    "0028": (_R, "a signatory's e-mail belongs to another user"),
    "0029": (_R, "a signatory's e-mail is already registered on the platform"),
    "0030": (_R, "the client's plan (tarifa) does not exist"),
    "0031": (_R, "a field of the request is not correct"),
    "0032": (_R, "a block type is not valid (firma, revision or copia)"),
    "0033": (_C, "the client account has been closed"),
    "0034": (_C, "the client account is not active"),
    "0035": (_R, "the manager's e-mail and name are required"),
    "0500": (_U, "the service is temporarily out of service"),
}

LIST: dict[str, tuple[Kind, str]] = {
    "0001": (_R, "the service could not read the request's JSON"),
    "0002": (_C, "the private key is not valid (RCFLOW_EFIRMA_PRIVATE_KEY)"),
    "0003": (_C, "the client is not valid (RCFLOW_EFIRMA_CLIENT_CIF)"),
    "0004": (_R, "a search needs at least one of keys, operation id or CSV"),
    "0500": (_U, "the service is temporarily out of service"),
}


def raise_for(operation: str, table: dict[str, tuple[Kind, str]], code: str, message: str = "") -> None:
    """Raise the :class:`EfirmaError` for ``code`` ("0000" passes); unknown codes are refusals."""
    if code == "0000":
        return
    kind, reason = table.get(code, (Kind.REFUSED, "unexpected answer"))
    detail = message.strip()[:200] if code == "0024" or code not in table else ""
    raise EfirmaError(operation, code, reason, kind, detail)
