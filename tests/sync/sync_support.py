"""Constants shared by the sync tests (kept out of conftest so test modules can import them)."""

from __future__ import annotations

from datetime import date

ISSUER = "hub_test"
SECRET = "sync-tests-secret-0123456789-abcdefghij"
TODAY = date(2025, 11, 20)
