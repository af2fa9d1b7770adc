"""Valid Spanish and EU identifiers, computed with python-stdnum from seeded random bodies."""

from __future__ import annotations

import random

from stdnum.es import ccc, cif, dni, nie
from stdnum.eu import vat
from stdnum.fr import siren

# CIF letters whose check character is a letter (public bodies and others).
_LETTER_CHECK = frozenset("KPQRSNW")


def make_cif(rng: random.Random, letter: str, body: str | None = None) -> str:
    """A CIF such as ``Q0811001G``; ``body`` fixes the 7 digits."""
    digits = body or f"{rng.randrange(10**7):07d}"
    checks = cif.calc_check_digits(letter + digits)  # "<digit><letter>"
    return letter + digits + (checks[1] if letter in _LETTER_CHECK else checks[0])


def make_dni(rng: random.Random) -> str:
    digits = f"{rng.randrange(10**6, 10**8):08d}"
    return digits + dni.calc_check_digit(digits)


def make_nie(rng: random.Random) -> str:
    body = rng.choice("XYZ") + f"{rng.randrange(10**7):07d}"
    return body + nie.calc_check_digit(body)


def _complete_last_digit(prefix: str, body: str) -> str | None:
    for d in "0123456789":
        if vat.is_valid(prefix + body + d):
            return prefix + body + d
    return None


def make_eu_vat(rng: random.Random, country: str) -> str:
    """A VAT number valid per ``stdnum.eu.vat`` for DE, FR, IT, PT, NL or BE."""
    while True:
        if country == "FR":
            base = f"{rng.randrange(10**7, 10**8):08d}"
            number = next(base + d for d in "0123456789" if siren.is_valid(base + d))
            key = (12 + 3 * (int(number) % 97)) % 97
            candidate: str | None = f"FR{key:02d}{number}"
        elif country == "DE":
            candidate = _complete_last_digit("DE", f"{rng.randrange(10**7, 10**8):08d}")
        elif country == "IT":
            office = f"{rng.randrange(1, 100):03d}"
            candidate = _complete_last_digit("IT", f"{rng.randrange(10**7):07d}{office}")
        elif country == "PT":
            candidate = _complete_last_digit("PT", "5" + f"{rng.randrange(10**7):07d}")
        elif country == "NL":
            body = f"{rng.randrange(10**8):08d}"
            candidate = next(
                (f"NL{body}{d}B01" for d in "0123456789" if vat.is_valid(f"NL{body}{d}B01")),
                None,
            )
        elif country == "BE":
            head = f"0{rng.randrange(2 * 10**7, 9 * 10**7):08d}"[:8]
            candidate = f"BE{head}{97 - int(head) % 97:02d}"
        else:
            raise ValueError(f"unsupported country {country}")
        if candidate and vat.is_valid(candidate):
            return candidate


def make_iban(rng: random.Random) -> str:
    """A valid Spanish IBAN (bank, branch, CCC control digits, account)."""
    bank = rng.choice(["2100", "0182", "0049", "0081", "2038", "0128", "3058", "1465"])
    branch = f"{rng.randrange(10**4):04d}"
    account = f"{rng.randrange(10**10):010d}"
    control = ccc.calc_check_digits(bank + branch + "00" + account)
    return ccc.to_iban(bank + branch + control + account).replace(" ", "")


def hub_nif(tax_id: str) -> str:
    """The hub's format: Spanish ids get ``ES`` in front, EU VAT numbers already carry a prefix."""
    return tax_id if tax_id[:2].isalpha() and tax_id[2:3].isdigit() else "ES" + tax_id
