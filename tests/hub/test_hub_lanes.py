"""The threads that run the eFACT client's blocking calls for the event loop (``Lanes``)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rcflow.connectors.efact.lanes import Lanes


def test_calls_run_in_at_most_size_threads_and_answer_their_own_caller() -> None:
    async def main() -> tuple[list[int], set[str]]:
        lanes = Lanes(3, name="t")
        names: set[str] = set()

        def work(n: int) -> int:
            names.add(threading.current_thread().name)
            return n * n

        try:
            return list(await asyncio.gather(*(lanes.run(work, n) for n in range(40)))), names
        finally:
            await lanes.aclose()

    results, names = asyncio.run(main())
    assert results == [n * n for n in range(40)]
    assert names and names <= {"t_0", "t_1", "t_2"}


def test_an_exception_reaches_the_caller_and_the_thread_goes_on() -> None:
    async def main() -> int:
        lanes = Lanes(1)

        def fail() -> None:
            raise KeyError("boom")

        try:
            with pytest.raises(KeyError, match="boom"):
                await lanes.run(fail)
            return await lanes.run(lambda: 7)
        finally:
            await lanes.aclose()

    assert asyncio.run(main()) == 7


def test_a_cancelled_call_not_started_never_runs_and_close_cancels_the_queued_ones() -> None:
    ran: list[str] = []
    gate = threading.Event()

    async def main() -> None:
        lanes = Lanes(1)
        busy = asyncio.ensure_future(lanes.run(gate.wait, 5))
        await asyncio.sleep(0.05)  # the only thread is now held by `busy`
        dropped = asyncio.ensure_future(lanes.run(ran.append, "dropped"))
        queued = asyncio.ensure_future(lanes.run(ran.append, "queued"))
        await asyncio.sleep(0)
        dropped.cancel()
        closing = asyncio.ensure_future(lanes.aclose())
        await asyncio.sleep(0.05)
        gate.set()  # the running call finishes; the queued one was cancelled by aclose
        await closing
        assert await busy is True
        with pytest.raises(asyncio.CancelledError):
            await queued
        with pytest.raises(RuntimeError, match="closed"):
            await lanes.run(ran.append, "after")

    asyncio.run(main())
    assert ran == []
