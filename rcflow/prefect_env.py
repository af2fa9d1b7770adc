"""Prefect's environment for rcflow, in one place: no analytics or telemetry, quiet server logs,
the logger flows name their steps on for a command's terminal, and what the command line's
temporary API (``rcflow.prefect_api``) starts with and runs its flows with.

Applied as defaults (an operator's own setting wins) by the command line, the demo, the worker
launcher and the test suite. ``.env.example`` carries the same lines for a ``prefect server start``
typed by hand (Prefect reads a ``.env`` in its working directory); a test keeps the two in step.
Imports nothing of Prefect's at import time (:func:`apply` must run before Prefect is imported).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

BASE: dict[str, str] = {
    # The server's anonymous usage reports: off (they also fail with errors on an offline machine).
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # The client SDK's telemetry (read from the process environment only, not from `.env`).
    "DO_NOT_TRACK": "1",
    # The API server's own log lines (one per request at INFO).
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    # A flow run outside a server starts a temporary API: on a busy machine it can take longer than
    # Prefect's default 20 s, which fails the run before any of rcflow's code starts.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}

QUIET_RUNS: dict[str, str] = {
    # A healthy interactive run (the demo) prints rcflow's outcome, not Prefect's run chatter; the
    # runs' full logs, failures with tracebacks included, still go to the Prefect API and its UI.
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_UI_ENABLED": "false",
}


# The flags Prefect starts its temporary API server with (SubprocessASGIServer, Prefect 3.8), for
# the one rcflow's commands start themselves (rcflow.prefect_api).
TEMPORARY_SERVER: dict[str, str] = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def temporary_api_updates(api_url: str) -> dict[Any, Any]:
    """What flows run with against a temporary API (for ``prefect.settings.temporary_settings``):
    its URL, and no flow-run heartbeats. A heartbeat lets a server notice a run that died, and this
    server dies with the run; each synchronous flow also waited up to a second at its end for the
    heartbeat's thread to wake."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY

    return {PREFECT_API_URL: api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}


# The logger a flow names its steps on, in words for the person waiting: `rcflow run` and `rcflow
# demo` show them on their terminal (``rcflow.cli.common.progress_steps``); in a worker, where
# Prefect's UI shows the subflows, nothing listens.
STEPS_LOGGER = "rcflow.steps"


def defaults(*, quiet_runs: bool = False) -> dict[str, str]:
    """The settings rcflow gives Prefect (``quiet_runs``: also silence run logs on the terminal)."""
    return {**BASE, **(QUIET_RUNS if quiet_runs else {})}


def apply(*, quiet_runs: bool = False) -> None:
    """Set the defaults in this process's environment, keeping any value already set.

    Call it before Prefect is imported: Prefect reads most settings once, at import.
    """
    for name, value in defaults(quiet_runs=quiet_runs).items():
        os.environ.setdefault(name, value)


def environment(base: Mapping[str, str] | None = None, *, quiet_runs: bool = False) -> dict[str, str]:
    """A copy of ``base`` (default: this process's environment) with the defaults filled in."""
    env = dict(os.environ if base is None else base)
    for name, value in defaults(quiet_runs=quiet_runs).items():
        env.setdefault(name, value)
    return env
