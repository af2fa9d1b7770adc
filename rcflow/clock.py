"""The one calendar: every business "now" and "today" in rcflow, in Europe/Madrid.

Legal dates (registry, payment, due dates, "today" for a running period, "in the future" for an
import) are Madrid dates: a UTC date is wrong for an hour or two every night. Everything that asks
"what day is it" calls :func:`today`; every instant rcflow records comes from :func:`now`.

The clock can be pinned for tests and rehearsals:

* in process, with :func:`pinned` (a context manager);
* for a whole process tree, with ``RCFLOW_CLOCK=2026-12-31T23:30:00Z`` (an ISO instant with its
  zone). A pinned clock starts at that instant and then runs at the real pace, so durations and
  ordering stay true.

Network protocol timestamps (JWT ``iat``/``exp``) are *not* business time: they follow the
machine's real clock and the hub's ``Date`` header, never this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")
CLOCK_ENV = "RCFLOW_CLOCK"

_pin: tuple[datetime, float] | None = None  # (pinned instant, monotonic reading when pinned)
_env_seen: str | None = None
_env_pin: tuple[datetime, float] | None = None


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant that names its zone (``Z`` or an offset); naive text is refused."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{CLOCK_ENV} must name its zone (e.g. 2026-12-31T23:30:00Z): {text!r}")
    return value.astimezone(UTC)


def _from_env() -> tuple[datetime, float] | None:
    global _env_seen, _env_pin
    raw = os.environ.get(CLOCK_ENV, "").strip()
    if raw != _env_seen:
        _env_seen = raw
        _env_pin = (parse_instant(raw), time.monotonic()) if raw else None
    return _env_pin


def now() -> datetime:
    """The current instant, timezone-aware in UTC (pinned when the clock is pinned)."""
    pin = _pin or _from_env()
    if pin is None:
        return datetime.now(UTC)
    instant, started = pin
    return instant + timedelta(seconds=time.monotonic() - started)


def local_now() -> datetime:
    """The current instant in Europe/Madrid (for "generated at" lines)."""
    return now().astimezone(MADRID)


def today() -> date:
    """Today's date in Europe/Madrid: the legal calendar of every Spanish public entity."""
    return local_now().date()


def madrid_date(instant: datetime) -> date:
    """The Madrid calendar date of an instant (naive instants are taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(MADRID).date()


def format_local(instant: datetime) -> str:
    """``31/12/2026 00:30 CET``: a Madrid time with its zone, as a person reads it."""
    local = instant.astimezone(MADRID)
    return f"{local:%d/%m/%Y %H:%M} {local.tzname()}"


@contextmanager
def pinned(instant: datetime | str) -> Iterator[datetime]:
    """Pin the clock in this process to ``instant`` (then running at the real pace)."""
    global _pin
    value = parse_instant(instant) if isinstance(instant, str) else instant.astimezone(UTC)
    if value.tzinfo is None:
        raise ValueError("a pinned instant must be timezone-aware")
    previous = _pin
    _pin = (value, time.monotonic())
    try:
        yield value
    finally:
        _pin = previous
