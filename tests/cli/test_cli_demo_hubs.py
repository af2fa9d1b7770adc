"""`rcflow demo` on two hubs: eFACT's simulator and FACe's (one entity eFACT does not serve, its
own offices), one warehouse, one report covering both; the FACe password in no output or file."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from rcflow.cli.demo import face_simulator
from rcflow.cli.main import app


def test_the_demos_face_serves_one_entity_efact_does_not(tmp_path: Path) -> None:
    from rcflow.connectors.efact.simulator.config import SimConfig
    from rcflow.connectors.efact.simulator.data import build_entities
    from rcflow.connectors.face import FaceClient, load_face_settings

    with face_simulator(tmp_path / "face", invoices=200, seed=2026) as (env, entity):
        settings = load_face_settings(**{k.removeprefix("RCFLOW_FACE_").lower(): v for k, v in env.items()})

        async def waiting() -> dict[str, int]:
            async with FaceClient.from_settings(settings) as face:
                return {o: len((await face.new_invoices(o)).invoices) for o in settings.offices}

        counts = asyncio.run(waiting())
    assert sum(counts.values()) > 0, counts  # the offices drained have invoices waiting
    efact_entities = {e.name for e in build_entities(2026, SimConfig().entities)}
    assert entity not in efact_entities
    assert env["RCFLOW_FACE_CERT_PASSWORD"] not in "".join(p.read_bytes().decode("latin-1")
                                                          for p in (tmp_path / "face").iterdir())  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_demo_runs_both_hubs_into_one_warehouse_and_one_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rcflow.connectors.face.connector", reason="no FACe connector in this rcflow yet")
    monkeypatch.chdir(tmp_path)
    before = dict(os.environ)
    try:
        result = CliRunner().invoke(app, ["demo", "--invoices", "150", "--data-dir", "demo", "--json"],
                                    catch_exceptions=False)  # fmt: skip
        password = os.environ.get("RCFLOW_FACE_CERT_PASSWORD", "")
    finally:
        os.environ.clear()
        os.environ.update(before)
    assert result.exit_code == 0, result.output[-3000:]
    data = json.loads(result.stdout)
    assert data["hubs"] == ["efact", "face"] and data["sync"]["ok"] and data["push"]["ok"]
    assert data["sync"]["hubs"]["face"]["invoices_new"] > 0 and data["push"]["hubs"]["face"]["pushed"] > 0
    with duckdb.connect("demo/warehouse.duckdb", read_only=True) as con:
        by_hub = dict(con.execute("select source_hub, count(*) from raw.invoices group by 1").fetchall())
        names = "select distinct entity_name from raw.invoices where source_hub = ?"
        face_names = {n for (n,) in con.execute(names, ["face"]).fetchall()}
        efact_names = {n for (n,) in con.execute(names, ["efact"]).fetchall()}
    assert set(by_hub) == {"efact", "face"} and all(by_hub.values())
    assert face_names == {data["face_entity"]} and not face_names & efact_names
    report = Path(data["report"]["paths"]["report.html"]).read_text(encoding="utf-8")
    assert data["face_entity"].replace("'", "&#39;") in report or data["face_entity"] in report
    assert any(name.replace("'", "&#39;") in report or name in report for name in efact_names)

    assert password
    assert password not in result.output
    for path in Path("demo").rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
