"""`rcflow accounting import A B C` when B is refused: A stays imported and the output says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from accounting_helpers import FIXTURES, count_events, prepare
from typer.testing import CliRunner

from rcflow.cli.main import app


@pytest.fixture
def warehouse(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    prepare(seeded)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(seeded))
    return seeded


def _files(tmp_path: Path) -> list[str]:
    bad = tmp_path / "es_yy.csv"
    bad.write_bytes("Id factura;Estado;Fecha pago\r\n300;Pagada;20/02/25\r\n".encode("cp1252"))
    later = tmp_path / "later.csv"
    later.write_text("invoice_id,state,date\n300,PAID,2025-02-20\n", encoding="utf-8")
    return [str(FIXTURES / "clean.csv"), str(bad), str(later)]


def test_a_refused_file_after_an_imported_one_says_what_went_in(warehouse: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["accounting", "import", *_files(tmp_path)])
    assert result.exit_code == 2
    assert count_events(warehouse) == 4  # clean.csv is in
    assert " ".join(result.stdout.split()) == "clean.csv: 5 rows, 4 new events, 2 exclusions"
    stderr = " ".join(result.stderr.split())
    assert "es_yy.csv:2: column 'Fecha pago' (C): bad date '20/02/25'" in stderr
    assert stderr.endswith(
        "rcflow: es_yy.csv: refused whole (1 problem), nothing of it imported; imported before it: clean.csv;"
        " not read: later.csv"
    )
    assert "nothing imported" not in stderr


def test_json_says_each_files_outcome(warehouse: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["accounting", "import", "--json", *_files(tmp_path)])
    assert result.exit_code == 2
    entries = json.loads(result.stdout)
    assert [(e["file"], e["status"]) for e in entries] == [
        ("clean.csv", "imported"), ("es_yy.csv", "refused"), ("later.csv", "not_read"),
    ]
    assert entries[0]["new_events"] == 4
    assert entries[1]["problems"] == [
        "es_yy.csv:2: column 'Fecha pago' (C): bad date '20/02/25' (expected YYYY-MM-DD or DD/MM/YYYY)"
    ]


def test_a_refused_first_file_imports_nothing(warehouse: Path, tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = CliRunner().invoke(app, ["accounting", "import", "--json", files[1]])
    assert result.exit_code == 2 and count_events(warehouse) == 0
    assert [e["status"] for e in json.loads(result.stdout)] == ["refused"]
    assert " ".join(result.stderr.split()).endswith("es_yy.csv: refused whole (1 problem), nothing imported")


def test_every_file_imported_exits_0(warehouse: Path, tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = CliRunner().invoke(app, ["accounting", "import", "--json", files[0], files[2], files[0]])
    assert result.exit_code == 0, result.stderr
    assert [e["status"] for e in json.loads(result.stdout)] == ["imported", "imported", "already_imported"]
