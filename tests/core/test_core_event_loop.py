"""The commands' event loop (``rcflow.event_loop``): uvloop's, with ``asyncio.run``'s endings; and
the suite's ``both_event_loops`` mark really runs a test on each loop (``tests/conftest.py``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest
import uvloop

from rcflow import event_loop


def test_run_returns_the_coroutines_value_on_uvloops_loop() -> None:
    async def main() -> tuple[type, int]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()), 42

    loop_type, value = event_loop.run(main())
    assert issubclass(loop_type, uvloop.Loop)
    assert value == 42


def test_run_raises_the_coroutines_error_and_closes_its_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loops.append(asyncio.get_running_loop())
        raise LookupError("no such invoice")

    with pytest.raises(LookupError, match="no such invoice"):
        event_loop.run(main())
    assert loops[0].is_closed()


def test_ctrl_c_cancels_the_main_task_as_asyncio_run_does() -> None:
    """SIGINT (and the commands' SIGTERM, which becomes it) cancels the running coroutine, whose
    clean-up runs, then ends the call with KeyboardInterrupt."""
    script = textwrap.dedent("""
        import asyncio, os, signal, sys
        from rcflow import event_loop

        async def main():
            asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGINT)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                print("cancelled, cleaning up", flush=True)
                raise

        try:
            event_loop.run(main())
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
    """)
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 130, done.stderr
    assert done.stdout.split("\n")[:2] == ["cancelled, cleaning up", "interrupted"]
    assert done.stderr == ""


@pytest.mark.both_event_loops
def test_both_event_loops_makes_asyncio_runs_loop(event_loop_kind: str) -> None:
    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert asyncio.run(loop_module()).split(".")[0] == event_loop_kind


@pytest.mark.both_event_loops
async def test_both_event_loops_makes_pytest_asyncios_loop(request: pytest.FixtureRequest) -> None:
    expected = request.node.callspec.id  # "asyncio" or "uvloop" (none: not run twice, an error)
    assert type(asyncio.get_running_loop()).__module__.split(".")[0] == expected

