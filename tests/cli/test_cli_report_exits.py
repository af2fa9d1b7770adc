"""`rcflow report`'s failures on the README's exit-code scheme: one `rcflow:` line each.

The build is replaced by one raising the library's error, so each mapping is checked alone (the
real build's failures are tested in tests/reports).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcflow.cli import report_cmds
from rcflow.cli.main import app
from rcflow.reports.dbt_runner import ReportBuildError
from rcflow.reports.pdf import PdfError
from rcflow.reports.rates import RatesFileError


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (ReportBuildError("dbt build failed: model.rcflow_reports.pmp"), 1, "dbt build failed"),
        (ReportBuildError("dbt could not run: IO Error: No space left on device"), 5, "no space left"),
        (ReportBuildError("dbt could not run: Read-only file system: '/srv/rcflow/r.duckdb'"), 6,
         "/srv/rcflow/r.duckdb"),
        (PdfError("PDF documents need Chromium"), 1, "need Chromium"),
        (RatesFileError("rates.csv:3: not a date"), 2, "rates.csv:3"),
    ],
)
def test_report_errors_map_to_the_readme_exit_codes(
    error: Exception, code: int, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_build(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(report_cmds, "build_reports", failing_build)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    result = CliRunner().invoke(app, ["report", "--period", "2025-10", "--out", str(tmp_path / "out")])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("rcflow: ") and line.lower() in lines[0].lower()
