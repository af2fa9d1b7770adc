"""How both hubs' clients retry a read: the attempts, the backoff, a 429's ``Retry-After``.

Each client decides, per error, whether a call is retried (``wait_for``: its hub's errors); the
waiting is the same for both: the first retry after a short jittered pause (or the 429's
``Retry-After``), the next ones on stamina's exponential backoff with jitter, up to
``RETRY_WAIT_MAX``. A 429 asking for more than ``MAX_RETRY_AFTER`` is not waited for: the work
stays on the hub for the next run. Every retry is counted by the caller and logged at DEBUG on
``rcflow.connectors`` (stamina's own hooks would print a WARNING for each, in a healthy run).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import TypeVar

import stamina

DEFAULT_MAX_RETRIES = 4
RETRY_WAIT_INITIAL = 0.2
RETRY_WAIT_MAX = 5.0
MAX_RETRY_AFTER = 120.0  # a 429 asking for a longer wait is not retried: the work waits for a run

T = TypeVar("T")
# Whether an error is retried: False (raise it), True (after the backoff) or after that many seconds.
WaitFor = Callable[[Exception], bool | float]

log = logging.getLogger("rcflow.connectors")


def _log_retry(details: stamina.instrumentation.RetryDetails) -> None:
    log.debug("retry %d of %s in %.2f s: %r", details.retry_num, details.name, details.wait_for,
              details.caused_by)  # fmt: skip


# Process-wide (stamina has one list of hooks): set here, so whichever hub a process talks to.
stamina.instrumentation.set_on_retry_hooks([_log_retry])


async def retrying(once: Callable[[], Awaitable[T]], *, wait_for: WaitFor, attempts: int,
                   on_retry: Callable[[], None]) -> T:  # fmt: skip
    """``await once()``; when it raises, retried while ``wait_for`` says so, at most ``attempts``
    more times, ``on_retry()`` before each (fast path: most calls succeed the first time)."""
    try:
        return await once()
    except Exception as exc:
        wait = wait_for(exc) if attempts > 0 else False
        if wait is False:
            raise
    await asyncio.sleep(RETRY_WAIT_INITIAL * (1 + random.random()) if wait is True else wait)
    async for attempt in stamina.retry_context(
        on=wait_for,
        attempts=attempts,
        timeout=None,
        wait_initial=RETRY_WAIT_INITIAL,
        wait_max=RETRY_WAIT_MAX,
        wait_jitter=RETRY_WAIT_INITIAL,
    ):
        with attempt:
            on_retry()
            return await once()
    raise AssertionError("unreachable")  # pragma: no cover


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    value = (value or "").strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None
