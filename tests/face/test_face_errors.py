"""Every result-code range maps to its typed error, worded on one line."""

from __future__ import annotations

import pytest

from rcflow.connectors.face.codes import Range, result_range
from rcflow.connectors.face.errors import (
    FaceAlreadyConfirmed,
    FaceBusinessError,
    FaceInvoiceNotFound,
    FaceNoInvoices,
    FaceOfficeError,
    FaceSecurityError,
    FaceSignatureServiceError,
    FaceTransitionRefused,
    FaceUndefinedError,
    result_error,
)


@pytest.mark.parametrize(
    ("code", "cls", "rng"),
    [
        ("001", FaceUndefinedError, Range.UNDEFINED),
        ("abc", FaceUndefinedError, Range.UNDEFINED),
        ("100", FaceSecurityError, Range.SECURITY),
        ("104", FaceSecurityError, Range.SECURITY),
        ("106", FaceSecurityError, Range.SECURITY),
        ("201", FaceSignatureServiceError, Range.SIGNATURE_SERVICE),
        ("310", FaceBusinessError, Range.BUSINESS),
        ("411", FaceOfficeError, Range.BUSINESS),
        ("501", FaceNoInvoices, Range.BUSINESS),
        ("502", FaceAlreadyConfirmed, Range.BUSINESS),
        ("505", FaceTransitionRefused, Range.BUSINESS),
        ("511", FaceInvoiceNotFound, Range.BUSINESS),
        ("987", FaceBusinessError, Range.BUSINESS),
    ],
)
def test_each_code_gets_its_class(code: str, cls: type, rng: Range) -> None:
    error = result_error("descargarFactura", code, None, "66f2a376af21c", subject="202601020701")
    assert type(error) is cls and result_range(code) is rng
    message = str(error)
    assert message.startswith(f"descargarFactura 202601020701: FACe refused ({code}): ")
    assert message.endswith("[seguimiento 66f2a376af21c]") and "\n" not in message


def test_a_security_refusal_names_the_certificate_and_why() -> None:
    error = result_error(
        "solicitarNuevasFacturas",
        "100",
        "La firma de la petición SOAP no es válida",
        None,
        certificate="certificate CN=ACME (serial 1f, valid until 2027-01-01)",
    )
    assert "request signed with certificate CN=ACME (serial 1f" in str(error)
    assert "registered for the platform" in str(error)
    assert "certificate" not in str(result_error("x", "502", None, None, certificate="certificate CN=ACME"))


def test_ok_is_its_own_range() -> None:
    assert result_range("0") is Range.OK
