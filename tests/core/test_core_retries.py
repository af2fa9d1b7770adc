"""The retry policy both hubs' clients share (``rcflow.connectors.retries``)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from rcflow.connectors import retries
from rcflow.connectors.retries import retry_after, retrying


class Flaky(Exception):
    pass


def _run(failures: int, wait_for: retries.WaitFor, attempts: int = 4) -> tuple[object, int, int]:
    """``retrying`` a call that fails ``failures`` times: (its result or error, calls, retries)."""
    calls, counted = [0], [0]

    async def once() -> str:
        calls[0] += 1
        if calls[0] <= failures:
            raise Flaky(f"failure {calls[0]}")
        return "ok"

    def on_retry() -> None:
        counted[0] += 1

    try:
        result: object = asyncio.run(retrying(once, wait_for=wait_for, attempts=attempts, on_retry=on_retry))
    except Flaky as exc:
        result = exc
    return result, calls[0], counted[0]


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retries, "RETRY_WAIT_INITIAL", 0.001)
    monkeypatch.setattr(retries, "RETRY_WAIT_MAX", 0.002)


def test_a_call_that_succeeds_at_once_is_called_once() -> None:
    assert _run(0, lambda exc: True) == ("ok", 1, 0)


def test_retried_errors_are_retried_and_counted() -> None:
    assert _run(2, lambda exc: True) == ("ok", 3, 2)
    assert _run(1, lambda exc: 0.001) == ("ok", 2, 1)  # a 429's Retry-After


def test_an_error_not_retried_is_raised_at_once() -> None:
    result, calls, counted = _run(1, lambda exc: False)
    assert isinstance(result, Flaky) and (calls, counted) == (1, 0)


def test_retries_end_after_the_attempts() -> None:
    result, calls, counted = _run(10, lambda exc: True, attempts=3)
    assert isinstance(result, Flaky) and str(result) == "failure 4"
    assert (calls, counted) == (4, 3)
    assert _run(1, lambda exc: True, attempts=0)[1:] == (1, 0)  # retries turned off


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after(" 120 ") == 120.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 28 <= retry_after(format_datetime(later, usegmt=True)) <= 30  # type: ignore[operator]
    assert retry_after(format_datetime(later - timedelta(hours=1), usegmt=True)) == 0.0  # past
    for unreadable in (None, "", "soon", "-5", "1.5e3"):
        assert retry_after(unreadable) is None


@pytest.mark.parametrize("client", ["rcflow.connectors.face.client", "rcflow.connectors.efact.http"])
def test_a_process_talking_to_one_hub_logs_retries_at_debug_only(client: str) -> None:
    """stamina's own hooks print a WARNING for every retry (a healthy run's transient 500): each
    hub's client, imported alone, leaves rcflow's DEBUG line as the only hook."""
    probe = (f"import {client}, stamina.instrumentation as si; "
             "print(*[f'{h.__module__}.{h.__qualname__}' for h in si.get_on_retry_hooks()])")  # fmt: skip
    hooks = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert hooks.split() == ["rcflow.connectors.retries._log_retry"]
