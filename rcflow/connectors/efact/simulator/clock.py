"""Hub time: Europe/Madrid timestamps in the spec's two shapes (with and without milliseconds)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")
DAY_MS = 86_400_000


def now_ms() -> int:
    return int(time.time() * 1000)


def fmt_ts(ms: int, millis: bool = True) -> str:
    """``2023-10-25T16:25:02.000+02:00`` or, without millis, ``2023-10-26T12:03:54+02:00``."""
    moment = datetime.fromtimestamp(ms / 1000, MADRID)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds")


def madrid_date(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, MADRID).date()


def midnight_ms(day: date) -> int:
    """Epoch milliseconds of 00:00 Europe/Madrid on ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=MADRID).timestamp() * 1000)


def today_madrid() -> date:
    return datetime.now(MADRID).date()


def add_days(day: date, days: int) -> date:
    return day + timedelta(days=days)
