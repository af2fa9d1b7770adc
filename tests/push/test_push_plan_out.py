"""Writing a file the user named: an error names that file, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.tabular import CsvDialect, Sheet, copy_csv, write_csv, write_xlsx


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def warehouse(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(seeded))
    return seeded


def test_plan_out_to_a_folder(warehouse: Path, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    before = _files(tmp_path)
    result = CliRunner().invoke(app, ["push", "--dry-run", "--out", str(tmp_path / "files")])
    assert result.exit_code != 0
    message = " ".join(result.stderr.split())
    assert "files" in message and ".tmp" not in message, message
    assert _files(tmp_path) == before


def test_plan_out_to_a_missing_folder(warehouse: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["push", "--dry-run", "--out", str(tmp_path / "nodir" / "plan.csv")])
    assert result.exit_code != 0
    message = " ".join(result.stderr.split())
    assert "nodir" in message and ".tmp" not in message, message


def test_a_failed_write_leaves_no_temporary_file_and_the_old_file_whole(tmp_path: Path) -> None:
    (tmp_path / "plan.csv").write_text("old\n", encoding="utf-8")

    def rows():
        yield ["a"]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as info:
        write_csv(tmp_path / "plan.csv", ["x"], rows())
    assert info.value.filename == str(tmp_path / "plan.csv") and info.value.errno == 28
    assert _files(tmp_path) == ["plan.csv"]
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8") == "old\n"


def test_xlsx_and_copy_name_the_users_file(tmp_path: Path) -> None:
    (tmp_path / "book.xlsx").mkdir()
    with pytest.raises(IsADirectoryError) as info:
        write_xlsx(tmp_path / "book.xlsx", [Sheet("s", ["x"], [[1]])])
    assert info.value.filename == str(tmp_path / "book.xlsx")
    con = duckdb.connect()
    with pytest.raises(FileNotFoundError) as missing:
        copy_csv(con, "select 1 as x", tmp_path / "nodir" / "out.csv", CsvDialect.excel_es)
    assert ".tmp" not in str(missing.value)
    copy_csv(con, "select 1 as x", tmp_path / "out.csv", CsvDialect.excel_es)
    assert _files(tmp_path) == ["book.xlsx", "out.csv"]
    assert (tmp_path / "out.csv").read_bytes() == b"\xef\xbb\xbfx\r\n1\r\n"
