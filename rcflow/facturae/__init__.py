"""Facturae 3.2.x: parse untrusted files safely, cross-check them, shape them for the warehouse."""

from rcflow.facturae.arrow import (
    SCHEMAS,
    documents_to_arrow,
    mismatches_to_arrow,
    rejected_document_row,
)
from rcflow.facturae.crosscheck import Mismatch, crosscheck, format_cents
from rcflow.facturae.errors import REJECT_REASONS, FacturaeRejected, RejectReason
from rcflow.facturae.model import (
    Batch,
    Centre,
    FacturaeDocument,
    Installment,
    Line,
    Party,
)
from rcflow.facturae.parse import NAMESPACES, parse_facturae
from rcflow.facturae.security import DEFAULT_MAX_BYTES, parse_untrusted

__all__ = [
    "DEFAULT_MAX_BYTES",
    "NAMESPACES",
    "REJECT_REASONS",
    "SCHEMAS",
    "Batch",
    "Centre",
    "FacturaeDocument",
    "FacturaeRejected",
    "Installment",
    "Line",
    "Mismatch",
    "Party",
    "RejectReason",
    "crosscheck",
    "documents_to_arrow",
    "format_cents",
    "mismatches_to_arrow",
    "parse_facturae",
    "parse_untrusted",
    "rejected_document_row",
]
