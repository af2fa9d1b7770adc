"""Keep GX off the terminal: no log records, no warnings (progress bars are off in its config)."""

from __future__ import annotations

import logging
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
