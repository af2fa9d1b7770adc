"""Where the hub requests of a sync run: in the sync's own event loop, or in worker processes.

One Python event loop tops out well below what a 16-connection budget can carry against a hub
answering in 20 ms: httpx is pure Python, so the loop thread is busy ~1.4 ms per request. Worker
processes each run their own loop and hub client and share the concurrency budget (workers ×
lanes = ``RCFLOW_CONCURRENCY``); the sync process keeps the warehouse (the one DuckDB writer) and
decides what is acknowledged. Small jobs stay in-process (starting workers costs about a second).

Both fetchers offer the same two operations:

* ``bundles(ids, fetched_at)`` yields lists of ``InvoiceBundle | FetchFailure`` as they complete
  (blobs are durable in the store before a bundle is yielded);
* ``acknowledge(ids)`` sends ``PATCH estat=DELIVERED`` for stored invoices and returns each one's
  answer or the reason it was not acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from rcflow.config import Settings
from rcflow.connectors.efact import HubClient
from rcflow.connectors.efact.models import InvoiceDetail
from rcflow.ingest.bundle import FetchFailure, InvoiceBundle, acknowledge_delivered, fetch_bundle
from rcflow.store import BlobStore

Fetched = InvoiceBundle | FetchFailure
Acknowledged = InvoiceDetail | FetchFailure
# Invoices handed to a worker in one call (and then committed together by the sync).
PART = 50


async def fetch_bundles(
    hub: HubClient, store: BlobStore, ids: Sequence[str], fetched_at: datetime
) -> list[Fetched]:
    """Fetch a few invoices' bundles with a window that keeps every connection busy."""
    return [done async for done in _stream_bundles(hub, store, ids, fetched_at)]


async def acknowledge_all(hub: HubClient, store: BlobStore, ids: Sequence[str]) -> list[Acknowledged]:
    """``PATCH estat=DELIVERED`` for every (stored) invoice, concurrently.

    ``store`` is unused: it is there so this is a worker ``Job`` like ``fetch_bundles``.
    """
    return list(await asyncio.gather(*(acknowledge_delivered(hub, i) for i in ids)))


async def _stream_bundles(
    hub: HubClient, store: BlobStore, ids: Sequence[str], fetched_at: datetime
) -> AsyncIterator[Fetched]:
    # Twice as many invoices as connections: an invoice's detail comes first, then its file,
    # history and attachments together. A bounded window also keeps acknowledgements from
    # queueing behind a whole page of downloads.
    window = asyncio.Semaphore(2 * hub.concurrency)

    async def fetch(invoice_id: str) -> Fetched:
        async with window:
            return await fetch_bundle(hub, store, invoice_id, fetched_at)

    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        await _cancel(tasks)


async def _cancel(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()  # no-op for finished ones
    await asyncio.gather(*tasks, return_exceptions=True)  # and every error retrieved


class InProcessFetcher:
    """Requests on the sync's own hub client and event loop."""

    def __init__(self, hub: HubClient, store: BlobStore):
        self.hub, self.store = hub, store

    async def bundles(self, ids: Sequence[str], fetched_at: datetime) -> AsyncIterator[list[Fetched]]:
        async for done in _stream_bundles(self.hub, self.store, ids, fetched_at):
            yield [done]

    async def acknowledge(self, ids: Sequence[str]) -> list[Acknowledged]:
        return await acknowledge_all(self.hub, self.store, ids)

    async def aclose(self) -> None:
        pass


class WorkerFailed(RuntimeError):
    """A worker process died or a job raised there; nothing it was doing was acknowledged."""


Job = Callable[[HubClient, BlobStore], Awaitable[Any]]
_RESUME = " (nothing it was fetching was acknowledged; re-run to resume)"


def worker_main(fd: int) -> None:
    """A worker process: one event loop and one hub client, running the jobs it is sent.

    Started as ``python -c`` (not multiprocessing's spawn, which would re-import the sync's whole
    main module, e.g. the CLI, in every worker); its settings come over the socket ``fd``.
    """
    conn = Connection(fd)
    settings, lanes = conn.recv()
    hub = HubClient.from_settings(settings.model_copy(update={"concurrency": lanes}))
    asyncio.run(_serve(conn, hub, BlobStore(settings.store_dir)))


async def _serve(conn: Connection, hub: HubClient, store: BlobStore) -> None:
    loop = asyncio.get_running_loop()
    jobs: asyncio.Queue[tuple[int, Job] | None] = asyncio.Queue()

    def receive() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                os._exit(1)  # the sync died: stop talking to the hub on its behalf, now
            loop.call_soon_threadsafe(jobs.put_nowait, message)
            if message is None:
                return

    async def run(job_id: int, job: Job) -> None:
        try:
            reply = (job_id, True, await job(hub, store))
        except Exception as exc:  # sent back as text: exception classes may not unpickle
            reply = (job_id, False, f"{type(exc).__name__}: {exc}")
        try:
            conn.send((*reply, hub.stats.requests, hub.stats.retries))
        except Exception as exc:  # e.g. a result that does not pickle: still answer, never hang
            failure = f"its reply could not be sent: {type(exc).__name__}: {exc}"
            conn.send((job_id, False, failure, hub.stats.requests, hub.stats.retries))

    threading.Thread(target=receive, daemon=True).start()
    running: set[asyncio.Task[None]] = set()
    while (message := await jobs.get()) is not None:
        task = asyncio.create_task(run(*message))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    await hub.aclose()


class _WorkerHandle:
    """The sync's side of one worker process: send jobs, resolve their futures as replies come."""

    def __init__(self, settings: Settings, lanes: int, loop: asyncio.AbstractEventLoop):
        ours, theirs = socket.socketpair()
        code = f"from rcflow.ingest.fetchers import worker_main; worker_main({theirs.fileno()})"
        self._process = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # a sync's stdout may be --json for a script
        )  # fmt: skip
        theirs.close()
        self._conn = Connection(ours.detach())
        self._conn.send((settings, lanes))  # the secret never goes on a command line
        self._loop = loop
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self.requests = self.retries = 0  # the worker's totals, as of its last reply
        self._reader = threading.Thread(target=self._receive, daemon=True)
        self._reader.start()

    def _receive(self) -> None:
        while True:
            try:
                reply = self._conn.recv()
            except (EOFError, OSError):
                self._loop.call_soon_threadsafe(self._fail_all)
                return
            self._loop.call_soon_threadsafe(self._resolve, *reply)

    def _resolve(self, job_id: int, ok: bool, value: Any, requests: int, retries: int) -> None:
        self.requests, self.retries = requests, retries
        future = self._pending.pop(job_id, None)
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(WorkerFailed(f"a download worker failed: {value}{_RESUME}"))

    def _fail_all(self) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerFailed(f"a download worker process died{_RESUME}"))

    @property
    def busy(self) -> int:
        return len(self._pending)

    def submit(self, job: Job) -> asyncio.Future[Any]:
        """Send a job now; its future resolves when the worker replies."""
        self._next_id += 1
        future = self._loop.create_future()
        self._pending[self._next_id] = future
        try:
            self._conn.send((self._next_id, job))
        except OSError:
            self._fail_all()
        return future

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._conn.close()


class ProcessFetcher:
    """Requests spread over worker processes that share the concurrency budget."""

    def __init__(self, settings: Settings, processes: int):
        processes = max(1, min(processes, settings.concurrency))
        # The budgets are shared: connections and the requests/s cap are split between workers.
        share = settings.model_copy(update={"rate_limit": settings.rate_limit / processes})
        lanes = max(1, settings.concurrency // processes)
        loop = asyncio.get_running_loop()
        self._workers = [_WorkerHandle(share, lanes, loop) for _ in range(processes)]

    def __len__(self) -> int:
        return len(self._workers)

    @property
    def requests(self) -> int:
        return sum(w.requests for w in self._workers)

    @property
    def retries(self) -> int:
        return sum(w.retries for w in self._workers)

    def _least_busy(self) -> _WorkerHandle:
        return min(self._workers, key=lambda w: w.busy)

    async def bundles(self, ids: Sequence[str], fetched_at: datetime) -> AsyncIterator[list[Fetched]]:
        # Two parts per worker in flight: a worker starts the next while its last stragglers
        # finish; acknowledgements share its connections first-come first-served.
        parts = [list(ids[i : i + PART]) for i in range(0, len(ids), PART)]
        submitted: list[asyncio.Future[list[Fetched]]] = []
        running: set[asyncio.Future[list[Fetched]]] = set()
        try:
            while parts or running:
                while parts and len(running) < 2 * len(self._workers):
                    job = functools.partial(fetch_bundles, ids=parts.pop(0), fetched_at=fetched_at)
                    submitted.append(self._least_busy().submit(job))
                    running.add(submitted[-1])
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            await _cancel(list(running))
            for future in submitted:  # a dead worker fails them all: one error is enough
                if not future.cancelled():
                    future.exception()

    async def acknowledge(self, ids: Sequence[str]) -> list[Acknowledged]:
        # Over every worker's connections: a page's last acknowledgements are its tail.
        n = len(self._workers)
        jobs = [functools.partial(acknowledge_all, ids=list(ids[i::n])) for i in range(n) if ids[i::n]]
        replies = await asyncio.gather(*(w.submit(job) for w, job in zip(self._workers, jobs, strict=False)))
        return [answer for reply in replies for answer in reply]

    async def aclose(self) -> None:
        await asyncio.gather(*(asyncio.to_thread(w.close) for w in self._workers))
