"""Keep GX off the terminal: no log records, no warnings (progress bars are off in its config)."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_LOGGERS = ("great_expectations", "duckdb_engine", "sqlalchemy", "posthog", "altair")


@contextmanager
def quiet_gx() -> Iterator[None]:
    """Silence GX's loggers and Python warnings for the duration of the block."""
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def hush_stderr_at_exit() -> None:
    """For commands and scripts: send stderr to /dev/null once the interpreter starts exiting.

    After GX has run over DuckDB 2.0, interpreter shutdown prints "nanobind: leaked ..." lines
    (module teardown order between duckdb-engine, GX and DuckDB's nanobind types; nothing leaks
    while the process runs). A command's output is complete by then. Not for library code.
    """

    def hush() -> None:
        sys.stderr.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    atexit.register(hush)
