"""Spanish and EU tax identifiers: normalise, classify, validate.

The hub writes Spanish ids with a country prefix (``ESQ1111112G``) while Facturae files usually
carry the bare id (``Q1111112G``); :func:`normalize_tax_id` makes both compare equal. Other EU
ids keep their prefix (``FR40303265045``).

``classify_tax_id`` looks at the *shape* only, so an id with a wrong check character still gets a
kind; ``is_valid_tax_id`` additionally requires the check characters to be right (python-stdnum).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import pyarrow as pa
from stdnum.es import cif, dni, nie, nif
from stdnum.eu import vat

TaxIdKind = Literal["NIF", "CIF", "NIE", "EU_VAT"]

_SEPARATORS = re.compile(r"[\s.\-]+")
_SPANISH_SHAPE = re.compile(r"[0-9A-Z][0-9]{7}[0-9A-Z]")
_DNI = re.compile(r"[0-9]{8}[A-Z]")
_KLM = re.compile(r"[KLM][0-9]{7}[A-Z]")
_NIE = re.compile(r"[XYZ][0-9]{7}[A-Z]")
_CIF = re.compile(r"[ABCDEFGHJNPQRSUVW][0-9]{7}[0-9A-J]")
_EU_VAT = re.compile(r"([A-Z]{2})[0-9A-Z+*]{2,13}")
# stdnum lists ISO codes; Greece writes EL in VAT numbers.
_EU_PREFIXES = frozenset(code.upper() for code in vat.MEMBER_STATES) | {"EL"}

VALIDATION_SCHEMA = pa.schema(
    [
        pa.field("tax_id", pa.string()),
        pa.field("normalized", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("is_valid", pa.bool_(), nullable=False),
    ]
)


def normalize_tax_id(value: str) -> str:
    """Strip spaces, dashes and dots, upper-case, and drop ``ES`` in front of a Spanish id."""
    compact = _SEPARATORS.sub("", value).upper()
    if compact.startswith("ES") and _SPANISH_SHAPE.fullmatch(compact[2:]):
        return compact[2:]
    return compact


def classify_tax_id(value: str | None) -> TaxIdKind | None:
    """The kind of id ``value`` is shaped like (check characters not verified), or None."""
    if value is None:
        return None
    number = normalize_tax_id(value)
    if _DNI.fullmatch(number) or _KLM.fullmatch(number):
        return "NIF"
    if _NIE.fullmatch(number):
        return "NIE"
    if _CIF.fullmatch(number):
        return "CIF"
    match = _EU_VAT.fullmatch(number)
    if match and match.group(1) in _EU_PREFIXES:
        return "EU_VAT"
    return None


def is_valid_tax_id(value: str | None) -> bool:
    """True when ``value`` is a NIF, NIE, CIF or EU VAT number with correct check characters."""
    kind = classify_tax_id(value)
    if kind is None or value is None:
        return False
    number = normalize_tax_id(value)
    if kind == "NIF":
        return dni.is_valid(number) if number[0].isdigit() else nif.is_valid(number)
    if kind == "NIE":
        return nie.is_valid(number)
    if kind == "CIF":
        return cif.is_valid(number)
    return vat.is_valid(number)


def validate_tax_ids(values: Iterable[str | None]) -> pa.Table:
    """Validate each distinct non-null id once; one row per distinct input value.

    Columns: ``tax_id`` (as given), ``normalized``, ``kind``, ``is_valid``. Join it back on
    ``tax_id`` to flag the rows of a large table without validating the same id twice.
    """
    distinct = [value for value in dict.fromkeys(values) if value is not None]
    normalized = [normalize_tax_id(value) for value in distinct]
    kinds = [classify_tax_id(value) for value in normalized]
    valid = [is_valid_tax_id(value) for value in normalized]
    return pa.Table.from_arrays(
        [
            pa.array(distinct, pa.string()),
            pa.array(normalized, pa.string()),
            pa.array(kinds, pa.string()),
            pa.array(valid, pa.bool_()),
        ],
        schema=VALIDATION_SCHEMA,
    )
