"""Numbers as Spanish/Catalan readers expect them: 1.234,56 (decimal comma, dot thousands)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

NOT_AVAILABLE = "n/a"


def _grouped(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.{places}f}"  # 1,234.56
    text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"-{text}" if rounded < 0 else text


def number(value: float | Decimal | int | None, places: int = 2) -> str:
    """``31.8181`` → ``31,82``; ``None`` → ``n/a``."""
    if value is None:
        return NOT_AVAILABLE
    return _grouped(Decimal(str(value)), places)


def euros(value: float | Decimal | int | None) -> str:
    """``1234.5`` → ``1.234,50 €``."""
    return NOT_AVAILABLE if value is None else f"{number(value, 2)}\u00a0€"


def compact_euros(value: float | Decimal | int | None) -> str:
    """Short amounts for chart labels: ``1475461424`` → ``1.475,5 M€``, ``8532`` → ``8.532 €``."""
    if value is None:
        return NOT_AVAILABLE
    amount = Decimal(str(value))
    if abs(amount) >= 1_000_000:
        return f"{number(amount / 1_000_000, 1)}\u00a0M€"
    return f"{number(amount, 0)}\u00a0€"


def count(value: int | None) -> str:
    """``12345`` → ``12.345``."""
    return NOT_AVAILABLE if value is None else number(value, 0)


def day(value: date | None) -> str:
    """Dates as DD/MM/YYYY."""
    return "" if value is None else value.strftime("%d/%m/%Y")
