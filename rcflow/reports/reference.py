"""Where the report's user-editable reference files are: settings, else the data folder."""

from __future__ import annotations

from pathlib import Path

from rcflow.config import ConfigError, Settings

DEFAULT_RATES_FILE = Path("data/legal_interest_rates.csv")
DEFAULT_ADMINISTRATIONS_FILE = Path("data/administrations.yaml")


def _pick(configured: Path | None, default: Path, variable: str) -> Path | None:
    if configured is not None:
        if not configured.is_file():
            raise ConfigError(f"{variable} names {configured}, which is not a file")
        return configured
    return default if default.is_file() else None


def reference_files(settings: Settings) -> dict[str, Path | None]:
    """``rates_file`` and ``administrations_file`` for :func:`rcflow.reports.build_reports`."""
    return {
        "rates_file": _pick(settings.interest_rates_file, DEFAULT_RATES_FILE,
                            "RCFLOW_INTEREST_RATES_FILE"),
        "administrations_file": _pick(settings.administrations_file, DEFAULT_ADMINISTRATIONS_FILE,
                                      "RCFLOW_ADMINISTRATIONS_FILE"),
    }  # fmt: skip
