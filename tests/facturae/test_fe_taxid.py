"""Tax-id normalisation, classification and check-character validation."""

from __future__ import annotations

import pyarrow as pa
import pytest

from rcflow.taxid import (
    VALIDATION_SCHEMA,
    classify_tax_id,
    is_valid_tax_id,
    normalize_tax_id,
    validate_tax_ids,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ESQ1111112G", "Q1111112G"),  # the hub's form
        ("Q1111112G", "Q1111112G"),  # Facturae's form
        (" es-q11.111.12g ", "Q1111112G"),
        ("12.345.678-z", "12345678Z"),
        ("ESX1234567L", "X1234567L"),
        ("FR 40 303 265 045", "FR40303265045"),  # other EU prefixes stay
        ("PT501964843", "PT501964843"),
        ("ESB1234567", "ESB1234567"),  # not a Spanish id after ES: left alone
    ],
)
def test_normalize_tax_id(raw: str, expected: str) -> None:
    """It strips separators, upper-cases and drops ES only in front of a Spanish id."""
    assert normalize_tax_id(raw) == expected


@pytest.mark.parametrize(
    ("value", "kind", "valid"),
    [
        ("12345678Z", "NIF", True),
        ("00000000T", "NIF", True),
        ("K1234567L", "NIF", True),
        ("12345678A", "NIF", False),
        ("X1234567L", "NIE", True),
        ("Y2345678Z", "NIE", True),
        ("X1234567A", "NIE", False),
        ("B12345674", "CIF", True),
        ("Q1111112G", "CIF", True),
        ("ESQ1111112G", "CIF", True),
        ("P0801900B", "CIF", True),
        ("B12345675", "CIF", False),
        ("Q1111112H", "CIF", False),
        ("FR40303265045", "EU_VAT", True),
        ("PT501964843", "EU_VAT", True),
        ("EL094259216", "EU_VAT", True),
        ("DE136695976", "EU_VAT", True),
        ("FR40303265046", "EU_VAT", False),
        ("GB980780684", None, False),  # no longer an EU VAT number
        ("US123456789", None, False),
        ("", None, False),
        ("not an id", None, False),
    ],
)
def test_classify_and_validate(value: str, kind: str | None, valid: bool) -> None:
    """It classifies by shape and validates the check characters per kind."""
    assert classify_tax_id(value) == kind
    assert is_valid_tax_id(value) is valid


def test_none_is_neither_classified_nor_valid() -> None:
    """A missing id has no kind and is not valid."""
    assert classify_tax_id(None) is None
    assert is_valid_tax_id(None) is False


def test_validate_tax_ids_returns_one_row_per_distinct_value() -> None:
    """It validates each distinct non-null id once, into a typed Arrow table."""
    table = validate_tax_ids(["ESQ1111112G", None, "Q1111112G", "ESQ1111112G", "12345678A"])
    assert isinstance(table, pa.Table)
    assert table.schema.equals(VALIDATION_SCHEMA)
    assert table.to_pylist() == [
        {"tax_id": "ESQ1111112G", "normalized": "Q1111112G", "kind": "CIF", "is_valid": True},
        {"tax_id": "Q1111112G", "normalized": "Q1111112G", "kind": "CIF", "is_valid": True},
        {"tax_id": "12345678A", "normalized": "12345678A", "kind": "NIF", "is_valid": False},
    ]


def test_validate_tax_ids_accepts_a_generator_and_nothing() -> None:
    """An empty input gives an empty table with the same schema."""
    table = validate_tax_ids(value for value in [])
    assert table.num_rows == 0
    assert table.schema.equals(VALIDATION_SCHEMA)
