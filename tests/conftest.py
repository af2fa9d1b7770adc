"""Suite-wide settings: quiet Prefect, no telemetry, no user config leaking into tests."""

from __future__ import annotations

import os

from rcflow import prefect_env

prefect_env.apply()
for _name in [n for n in os.environ if n.startswith("RCFLOW_")]:
    del os.environ[_name]


def pytest_sessionfinish(session, exitstatus) -> None:  # type: ignore[no-untyped-def]
    """DuckDB 2.0's bindings print "nanobind: leaked …" at interpreter exit once GX has run;
    nothing leaks while the process runs. Keep the end of the test output clean."""
    from rcflow.cli.common import hush_stderr_at_exit

    hush_stderr_at_exit()
