"""`rcflow demo --data-dir`: the demo empties its folder first, so only a folder it made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcflow.cli.demo import DEMO_MARKER, _start_afresh
from rcflow.config import ConfigError


def test_a_folder_holding_other_files_is_refused_and_kept(tmp_path: Path) -> None:
    """`--data-dir data` beside a real warehouse deleted it, and every other file there."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "warehouse.duckdb").write_bytes(b"the entity's real warehouse")
    env = {**os.environ, "RCFLOW_WAREHOUSE": str(folder / "warehouse.duckdb")}
    done = subprocess.run([sys.executable, "-m", "rcflow.cli.main", "demo", "--data-dir", str(folder)],
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"rcflow: --data-dir {folder}: holds files no demo made")
    assert (folder / "warehouse.duckdb").read_bytes() == b"the entity's real warehouse"


def test_a_folder_an_earlier_demo_made_is_emptied_and_marked_again(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    _start_afresh(folder)
    (folder / "warehouse.duckdb").write_bytes(b"last demo")
    _start_afresh(folder)
    assert sorted(p.name for p in folder.iterdir()) == [DEMO_MARKER]


@pytest.mark.parametrize("made", ["empty folder", "file"])
def test_an_empty_folder_is_used_and_a_file_refused(tmp_path: Path, made: str) -> None:
    path = tmp_path / "demo"
    if made == "file":
        path.write_text("not a folder")
        with pytest.raises(ConfigError, match="not a folder"):
            _start_afresh(path)
        assert path.read_text() == "not a folder"
    else:
        path.mkdir()
        _start_afresh(path)
        assert (path / DEMO_MARKER).exists()
