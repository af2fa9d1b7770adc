"""The event loop rcflow's commands run their coroutines on: uvloop's, where it is installed.

uvloop (libuv underneath, its transports in C) runs the hubs' clients on less memory than
asyncio's own loop, and at a hub's latency on less CPU: 0.2–0.5 ms less per invoice synced at
20 ms, level at 0 ms (``bench/HISTORY.md``, thirteenth round). Nothing in rcflow depends on it:
Prefect's engine runs the flows on asyncio's own loop, and the tests of the hubs' wire run on both
(``tests/conftest.py``: ``both_event_loops``).

May import: the standard library and uvloop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

try:
    import uvloop
except ImportError:  # not built for this platform (Windows): asyncio's own loop
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """What makes a new loop: uvloop's where it is installed, asyncio's own otherwise."""
    return uvloop.new_event_loop if uvloop is not None else asyncio.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on :func:`loop_factory`'s loop: the same cancellation on Ctrl-C, the
    same clean-up of tasks and async generators."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
