"""Relative reporting periods for schedules: ``last-month``, ``current-quarter``, …"""

from __future__ import annotations

from datetime import date, timedelta

from rcflow import clock

RELATIVE = ("current-month", "last-month", "current-quarter", "last-quarter")


def resolve_period(text: str, today: date | None = None) -> str:
    """Turn a relative period into ``YYYY-MM`` / ``YYYY-Qn``; explicit periods pass through."""
    value = text.strip().lower()
    if value not in RELATIVE:
        return text.strip()
    today = today or clock.today()
    if value == "current-month":
        return f"{today.year}-{today.month:02d}"
    if value == "last-month":
        last = today.replace(day=1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    quarter = (today.month - 1) // 3 + 1
    if value == "current-quarter":
        return f"{today.year}-Q{quarter}"
    first_of_quarter = date(today.year, 3 * quarter - 2, 1)
    last = first_of_quarter - timedelta(days=1)
    return f"{last.year}-Q{(last.month - 1) // 3 + 1}"
