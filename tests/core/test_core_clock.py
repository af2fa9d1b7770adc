"""The one calendar: Madrid dates at the awkward instants, pinning in process and by environment."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from rcflow import clock
from rcflow.reports.periods import parse_period


@pytest.mark.parametrize(
    ("instant", "madrid_day"),
    [
        ("2026-12-31T23:30:00Z", date(2027, 1, 1)),  # New Year in Madrid, still 2026 in UTC
        ("2026-03-29T00:30:00Z", date(2026, 3, 29)),  # spring-forward night (02:00 -> 03:00 CEST)
        ("2026-10-24T22:30:00Z", date(2026, 10, 25)),  # autumn night, before the fall-back
        ("2026-10-25T01:30:00Z", date(2026, 10, 25)),  # the repeated hour (02:30 CET)
        ("2026-05-31T22:30:00Z", date(2026, 6, 1)),  # 00:30 Madrid on the 1st, summer
        ("2028-02-28T23:30:00Z", date(2028, 2, 29)),  # leap day
    ],
)
def test_today_is_the_madrid_date(instant: str, madrid_day: date) -> None:
    with clock.pinned(instant):
        assert clock.today() == madrid_day
        assert clock.madrid_date(clock.now()) == madrid_day


def test_a_pinned_clock_runs_on_and_is_released() -> None:
    with clock.pinned("2026-12-31T23:30:00Z") as start:
        first = clock.now()
        assert first >= start and (first - start).total_seconds() < 5
        assert clock.now() >= first
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5


def test_the_environment_pins_a_child_process() -> None:
    env = dict(os.environ, RCFLOW_CLOCK="2026-12-31T23:30:00Z")
    code = "from rcflow import clock; print(clock.today(), clock.format_local(clock.now()))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("2027-01-01 01/01/2027 00:30 CET")


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="must name its zone"):
        clock.parse_instant("2026-12-31T23:30:00")


def test_relative_periods_follow_the_madrid_calendar() -> None:
    with clock.pinned("2026-12-31T23:30:00Z"):
        assert parse_period("current-month").label == "2027-01"
        assert parse_period("last-month").label == "2026-12"
        assert parse_period("last-quarter").label == "2026-Q4"
