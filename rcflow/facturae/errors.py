"""Why a Facturae file was refused."""

from __future__ import annotations

from typing import Final, Literal, get_args

RejectReason = Literal[
    "dtd_or_entities",  # a DOCTYPE or ENTITY declaration: XXE, entity bombs; never expanded
    "malformed_xml",  # not well-formed, empty, or an encoding rcflow does not read
    "not_facturae",  # the root is not a Facturae element in a known namespace
    "missing_field",  # a field rcflow needs is absent or empty
    "too_large",  # over the configured size limit (or a text node over libxml2's limit)
    "bad_value",  # a number or date that does not parse
]

REJECT_REASONS: Final[frozenset[str]] = frozenset(get_args(RejectReason))


class FacturaeRejected(Exception):
    """The file cannot be trusted; ``reason`` is one of :data:`REJECT_REASONS`.

    ``detail`` says what exactly, in a form fit for ``ops.quarantine.detail``; it never echoes
    entity contents or file data beyond a short element path.
    """

    def __init__(self, reason: RejectReason, detail: str):
        if reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason: RejectReason = reason
        self.detail = detail

    def __reduce__(self):  # keep it picklable across Prefect task boundaries
        return (type(self), (self.reason, self.detail))
