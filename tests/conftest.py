"""Suite-wide settings: quiet Prefect, no telemetry, no user config leaking into tests."""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
os.environ.setdefault("DO_NOT_TRACK", "1")
for _name in [n for n in os.environ if n.startswith("RCFLOW_")]:
    del os.environ[_name]
