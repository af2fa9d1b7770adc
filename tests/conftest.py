"""Suite-wide settings: quiet Prefect, no telemetry, no user config leaking into tests.

The suite runs in parallel under pytest-xdist (``make test``: ``-n 2 --dist loadfile``), so every
process gets its own Prefect home (``PREFECT_HOME``: profiles, result storage, any local API
database), inherited by the CLIs the tests start; tests write only under their ``tmp_path``.
Files that build the same expensive session fixture (a dbt build, a Prefect test API) run on one
worker (:data:`SHARED_SETUP`), and the longest files are dealt first (:data:`LONG_FIRST`).
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvloop

from rcflow import prefect_env

prefect_env.apply()
# Nor the terminal's size: rich fixes a console's width from COLUMNS when the console is made (at
# import), and pytest-xdist's workers start with COLUMNS=80 where a plain run has none.
for _name in [n for n in os.environ if n.startswith("RCFLOW_") or n in ("COLUMNS", "LINES")]:
    del os.environ[_name]

# Before Prefect is imported (it reads its settings once): a home of this process's own, never the
# developer's ~/.prefect, and never one shared by two xdist workers.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_PREFECT_HOME = tempfile.mkdtemp(prefix=f"rcflow-tests-prefect-{_WORKER}-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)

TESTS = Path(__file__).parent

# Folders whose files share session fixtures that cost seconds each (dbt builds of the report
# scenarios, the Prefect test API, GX checks of the quality scenarios): one work unit each under
# xdist, so one worker builds them once instead of each worker building them again.
SHARED_SETUP = ("reports", "flows", "quality")

# The longest files or folders, longest first: dealt to the workers before the many short files,
# which then fill in behind them (a long file dealt last would leave the other worker idle). A file
# named here is a work unit of its own, even inside a SHARED_SETUP folder.
LONG_FIRST = (
    "flows/test_prefect_real.py",
    "demo",
    "core/test_core_storage_failures.py",
    "core/test_core_run_endings.py",
    "flows",
    "reports",
    "quality",
    "cli",
    "cancellations/test_cancel_reports.py",
)


# The event loops a test marked ``both_event_loops`` runs on: asyncio's own (Prefect's engine runs
# the flows on it) and uvloop's (rcflow's commands, ``rcflow.event_loop``).
EVENT_LOOP_POLICIES: dict[str, Callable[[], asyncio.AbstractEventLoopPolicy]] = {
    "asyncio": asyncio.DefaultEventLoopPolicy,
    "uvloop": uvloop.EventLoopPolicy,
}
EVENT_LOOPS = {name: policy().new_event_loop for name, policy in EVENT_LOOP_POLICIES.items()}


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """A coroutine test marked ``both_event_loops`` runs once on each loop, any other on asyncio's
    (pytest-asyncio's hook: it must answer for every test)."""
    if item.get_closest_marker("both_event_loops"):
        return EVENT_LOOPS
    return {"asyncio": EVENT_LOOPS["asyncio"]}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A plain test marked ``both_event_loops`` runs once with each loop as ``asyncio.run``'s."""
    marked = metafunc.definition.get_closest_marker("both_event_loops")
    if marked and not inspect.iscoroutinefunction(metafunc.function):
        if "event_loop_kind" not in metafunc.fixturenames:
            metafunc.fixturenames.append("event_loop_kind")
        metafunc.parametrize("event_loop_kind", list(EVENT_LOOPS), indirect=True)


@pytest.fixture
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """The loop ``asyncio.run`` makes during the test (set as the policy's), by name."""
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(EVENT_LOOP_POLICIES[request.param]())
    try:
        yield request.param
    finally:
        asyncio.set_event_loop_policy(previous)


def work_unit(path: str) -> str:
    """The xdist work unit of a test file (``path`` relative to ``tests/``): its file, or its folder."""
    folder = path.split("/", 1)[0]
    return folder if folder in SHARED_SETUP and path not in LONG_FIRST else path


def _rank(path: str) -> int:
    hits = (i for i, long in enumerate(LONG_FIRST) if path == long or path.startswith(long + "/"))
    return next(hits, len(LONG_FIRST))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the files of :data:`LONG_FIRST` first (the collection order is the dealing order)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: _rank(item.path.relative_to(TESTS).as_posix()))  # stable


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown under `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` (or ``loadgroup``): whole :func:`work_unit`s per worker, in collection order.

    xdist 3.8's own ``loadgroup`` cannot tag tests on pytest 9.2 (it rewrites a node id pytest no
    longer reads), so the grouping is done here, on the controller, from the node ids.
    """
    if config.getvalue("dist") not in ("loadfile", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return work_unit(path.removeprefix("tests/")) if path.startswith("tests/") else path

    config.option.loadscopereorder = False  # keep LONG_FIRST's order, not "most tests first"
    return WorkUnitScheduling(config, log)


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    """DuckDB 2.0's bindings print "nanobind: leaked …" at interpreter exit once GX has run;
    nothing leaks while the process runs. Keep the end of the test output clean."""
    from rcflow.cli.common import hush_stderr_at_exit

    hush_stderr_at_exit()
