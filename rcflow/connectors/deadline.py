"""When a hub's answer counts as stalled: the one rule both hubs' clients apply to every exchange.

An exchange has ``timeout`` seconds to its headers, and its deadline moves on as the body arrives,
by a second for every ``MIN_BODY_RATE`` bytes: a large document on a slow but working line
completes, while a body that drips (a byte a second, forever) fails in about ``timeout`` seconds
instead of holding its connection until the run is killed.
"""

from __future__ import annotations

import time

MIN_BODY_RATE = 64 * 1024  # bytes/s: a body arriving slower than this overall is a stalled one


class Deadline:
    """One exchange's overall deadline: ``timeout`` to the headers, extended as body bytes
    arrive (``received``, counted by the caller). Instants are ``time.monotonic()``'s, which is
    also asyncio's loop clock."""

    __slots__ = ("received", "start", "timeout")

    def __init__(self, timeout: float):
        self.start, self.timeout, self.received = time.monotonic(), timeout, 0

    def at(self) -> float:
        """The instant the exchange must be complete by, given the bytes received so far."""
        return self.start + self.timeout + self.received / MIN_BODY_RATE

    def left(self) -> float:
        return self.at() - time.monotonic()

    def expired(self) -> str:
        """Why an exchange that reached its deadline failed, in one line (no content)."""
        return (f"no complete answer in time: stalled or slower than {MIN_BODY_RATE // 1024} KiB/s "
                f"after {self.timeout:g} s, {self.received} bytes received")  # fmt: skip
