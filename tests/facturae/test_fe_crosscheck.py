"""Cross-checking a parsed Facturae against the hub's invoice detail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rcflow.facturae import FacturaeDocument, Mismatch, crosscheck, format_cents, parse_facturae

Load = Callable[[str], bytes]


@pytest.fixture
def doc(fixture_bytes: Load) -> FacturaeDocument:
    return parse_facturae(fixture_bytes("v322_gob.xml"))  # total 1155.00, B12345674 → Q1111112G


def test_equal_values_give_no_mismatch(doc: FacturaeDocument) -> None:
    """The hub's ES-prefixed ids and the exact total agree with the file."""
    assert (
        crosscheck(
            doc,
            hub_total_cents=115500,
            hub_supplier_nif="ESB12345674",
            hub_entity_nif="ESQ1111112G",
        )
        == []
    )


def test_unknown_hub_values_are_not_compared(doc: FacturaeDocument) -> None:
    """None means the hub did not say; nothing to compare."""
    assert crosscheck(doc, hub_total_cents=None, hub_supplier_nif=None, hub_entity_nif=None) == []


def test_every_difference_is_reported(doc: FacturaeDocument) -> None:
    """A one-cent difference and other parties' ids are all mismatches."""
    found = crosscheck(
        doc,
        hub_total_cents=115501,
        hub_supplier_nif="ESA58818501",
        hub_entity_nif="P0801900B",
    )
    assert found == [
        Mismatch("total", "1155.01", "1155.00"),
        Mismatch("seller_nif", "ESA58818501", "B12345674"),
        Mismatch("buyer_nif", "P0801900B", "Q1111112G"),
    ]


def test_credit_note_total_compares_with_sign(fixture_bytes: Load) -> None:
    """A credit note's negative total must match a negative hub amount."""
    credit = parse_facturae(fixture_bytes("credit_note.xml"))
    assert (
        crosscheck(credit, hub_total_cents=-12100, hub_supplier_nif=None, hub_entity_nif=None) == []
    )
    assert crosscheck(
        credit, hub_total_cents=12100, hub_supplier_nif=None, hub_entity_nif=None
    ) == [Mismatch("total", "121.00", "-121.00")]


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "0.00"), (5, "0.05"), (-5, "-0.05"), (154275, "1542.75"), (-12100, "-121.00")],
)
def test_format_cents(cents: int, text: str) -> None:
    """Cents print as exact decimal strings."""
    assert format_cents(cents) == text
