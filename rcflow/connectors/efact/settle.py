"""Running one hub call per item concurrently, keeping the hub's refusals apart from real bugs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from rcflow.connectors.efact.errors import HubError

T = TypeVar("T")
R = TypeVar("R")


async def settle(
    items: Sequence[T], call: Callable[[T], Awaitable[R]]
) -> tuple[list[tuple[T, R]], list[tuple[T, HubError]]]:
    """``call(item)`` for every item at once (the client bounds the concurrency).

    Returns the (item, result) pairs that succeeded and the (item, error) pairs the hub refused or
    could not answer; any other exception is a bug and is raised.
    """
    results = await asyncio.gather(*(call(item) for item in items), return_exceptions=True)
    done: list[tuple[T, R]] = []
    failed: list[tuple[T, HubError]] = []
    for item, result in zip(items, results, strict=True):
        if isinstance(result, HubError):
            failed.append((item, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            done.append((item, result))
    return done, failed
