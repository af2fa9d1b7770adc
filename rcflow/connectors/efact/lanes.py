"""A fixed set of threads that run blocking calls for an event loop, one queue between them.

``asyncio``'s ``run_in_executor`` over a ``ThreadPoolExecutor`` builds a concurrent future, an
asyncio future chained to it and two callbacks per call: at the sync's rate (several calls per
invoice) that plumbing cost the event loop more CPU than the calls' own Python. Here a call is
one tuple on a ``queue.SimpleQueue`` and one ``call_soon_threadsafe`` back, nothing else.

A call whose awaiting task was cancelled before a thread took it never runs; ``aclose`` cancels
the calls still queued, lets the running ones finish and joins the threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple, dict]


class Lanes:
    """``size`` threads (started on first use) running blocking calls for async callers."""

    def __init__(self, size: int, *, name: str = "lane"):
        self.size, self.name = max(1, size), name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._lock = threading.Lock()

    async def run(self, call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``call(*args, **kwargs)`` in one of the threads; its result or its exception."""
        if self._closed:
            raise RuntimeError(f"{self.name} threads are closed")
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._jobs.put((loop, future, call, args, kwargs))
        return await future

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self.size:
                thread = threading.Thread(target=self._lane, name=f"{self.name}_{len(self._threads)}",
                                          daemon=True)  # fmt: skip
                thread.start()
                self._threads.append(thread)

    def _lane(self) -> None:
        jobs = self._jobs
        while (job := jobs.get()) is not None:
            loop, future, call, args, kwargs = job
            if future.cancelled():  # its caller is gone: do not start it
                continue
            try:
                outcome: tuple[Any, BaseException | None] = (call(*args, **kwargs), None)
            except BaseException as exc:  # handed to the awaiting task, whatever it is
                outcome = (None, exc)
            _deliver(loop, future, *outcome)
            job = future = outcome = None  # type: ignore[assignment]  # hold nothing while idle

    async def aclose(self) -> None:
        """Cancel the queued calls, let the running ones finish, join the threads."""
        self._closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                with contextlib.suppress(RuntimeError):  # its loop is closed: nobody awaits it
                    job[0].call_soon_threadsafe(job[1].cancel)
        threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        await asyncio.to_thread(lambda: [t.join() for t in threads])


def _deliver(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any,
             error: BaseException | None) -> None:  # fmt: skip
    """Settle ``future`` from a lane thread, in its loop's thread (a closed loop drops it)."""
    with contextlib.suppress(RuntimeError):  # the loop was closed meanwhile: nobody awaits it
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
