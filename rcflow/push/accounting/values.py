"""Field values: dates and amounts as Spanish, Catalan and ISO exports write them, and text limits.

Dates: ``YYYY-MM-DD`` (ISO, also with a midnight time ``00:00[:00]``, as databases export dates),
or day first: ``DD/MM/YYYY``, ``D/M/YYYY``, ``DD-MM-YYYY``, ``DD.MM.YYYY`` (never month first, never
a two-digit year), also with a midnight time ``0:00`` or ``00:00:00`` (Excel's CSV of a date cell
with a time format); any other time of day is refused. Amounts: decimal comma or point, with or
without thousands grouping (``8.054,53``, ``8054,53``, ``8,054.53``, ``8054.53``); a separator
followed by exactly three digits is a thousands separator (amounts have at most two decimals).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

# What rcflow accepts in each pushed or stored text field, in characters. The eFACT RCF API
# (shared/seeds/004, section 7, "Actualització d'estats de factura") states no maximum for any
# PATCH field, so these are rcflow's own limits, chosen well above every real value (its examples:
# "RCF-2023-89584", "E01", "No s'ha especificat el número d'expedient") and low enough that a
# runaway cell is refused here rather than by the hub on every run.
LIMITS: dict[str, tuple[int, str]] = {
    "invoice_id": (30, "the hub's invoice id"),
    "registry_number": (50, "numeroRegistre"),
    "rcf_number": (50, "numeroRegistreRCF"),
    "reason_code": (20, "codiMotiuRebuig"),
    "reason": (500, "descripcioMotiuRebuig"),
    "exclusion_note": (500, "ops.scope_exclusions.note"),
    "state": (40, "estat"),
    "exclusion": (60, "ops.scope_exclusions.reason"),
    "date": (30, "a date"),
    "amount": (30, "an amount"),
}

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_ISO_WITH_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?: 0?0:00(?::00)?)?")
_DAY_FIRST_WITH_TIME = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{4} \d{1,2}:\d{2}")
_COMMA_DECIMAL = re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d{1,2})?")
_POINT_DECIMAL = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")


def parse_date(text: str) -> date | str:
    """The date ``text`` names, or why it is not one."""
    if match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    elif _ISO_WITH_TIME.match(text) or _DAY_FIRST_WITH_TIME.match(text):
        return "a date and a time (expected a date)"
    elif text.isdigit():
        return "a number, not a date (an Excel day number? Format the column as a date)"
    else:
        return "expected YYYY-MM-DD or DD/MM/YYYY"
    try:
        return date(year, month, day)
    except ValueError:
        return "no such day"


def parse_amount(text: str) -> Decimal | None:
    """The amount ``text`` writes (decimal comma or point), or None when it is not one."""
    compact = text.replace(" ", "").replace("\u00a0", "").replace("€", "")
    if _COMMA_DECIMAL.fullmatch(compact):
        return Decimal(compact.replace(".", "").replace(",", "."))
    if _POINT_DECIMAL.fullmatch(compact):
        return Decimal(compact.replace(",", ""))
    return None
