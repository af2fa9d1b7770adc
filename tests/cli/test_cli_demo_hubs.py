"""`rcflow demo` on two hubs: FACe's simulator serves one entity eFACT's does not, its own offices,
with its password in none of its files; the demo prints one summary as a table or as JSON. The demo
itself runs end to end in tests/demo."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcflow.cli.demo import face_simulator
from rcflow.cli.main import app
from rcflow.prefect_env import STEPS_LOGGER


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


def test_demo_prints_one_summary_as_a_table_or_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline itself runs for real in tests/demo (in a terminal); here, what each mode prints
    of one result: the same figures, per hub."""
    from rcflow.cli import demo as demo_module
    from rcflow.cli.demo import DemoResult

    result = DemoResult(
        warehouse=tmp_path / "warehouse.duckdb",
        period="2026-11",
        report={"headline": {"pmp_global": 23.456, "paid_count": 41},
                "paths": {name: str(tmp_path / name) for name in ("report.html", "dashboard.html")}},
        sync={"ok": True, "invoices_new": 180, "amount_new": 123456.78, "attachments_stored": 9,
              "late_attachments_stored": 2, "quarantined": 3,
              "hubs": {"efact": {"invoices_new": 150}, "face": {"invoices_new": 30}}},
        push={"ok": True, "pushed": 77, "discrepancies": [{"blocking": True}, {"blocking": False}]},
        check={"ok": True},
        accounting_file=tmp_path / "accounting.csv",
        signature={"signed": True, "state": "signed", "pdf": str(tmp_path / "pmp.ca.pdf")},
        hubs=["efact", "face"],
        face_entity="Consorci d'Aigües",
    )  # fmt: skip
    def run_demo(**options: object) -> DemoResult:  # its steps named as the real one names them
        logging.getLogger(STEPS_LOGGER).info("syncing eFACT and FACe")
        logging.getLogger(STEPS_LOGGER).info("building the report")
        return result

    monkeypatch.setattr(demo_module, "run_demo", run_demo)
    table = CliRunner().invoke(app, ["demo", "--invoices", "150"], catch_exceptions=False)
    as_json = CliRunner().invoke(app, ["demo", "--invoices", "150", "--json"], catch_exceptions=False)
    assert table.exit_code == as_json.exit_code == 0, table.output + as_json.output
    # The steps, each with its seconds, on stderr; none in JSON mode, whose stdout is the JSON.
    steps = [line for line in table.stderr.splitlines() if line.startswith("✓")]
    assert [s.rsplit(" (", 1)[0] for s in steps] == ["✓ syncing eFACT and FACe", "✓ building the report"]
    assert all(s.endswith(" s)") for s in steps) and as_json.stderr == ""
    data = json.loads(as_json.stdout)
    assert data["hubs"] == ["efact", "face"] and data["face_entity"] == "Consorci d'Aigües"
    assert data["sync"]["hubs"]["face"]["invoices_new"] == 30 and data["push"]["pushed"] == 77
    assert data["report"]["headline"]["pmp_global"] == 23.456 and data["warehouse"] == str(result.warehouse)
    rows = dict(
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in table.stdout.splitlines()
        if line.count("│") == 3
    )
    assert (rows["from face"], rows["from efact"], rows["amount synced (€)"]) == ("30", "150", "123,456.78")
    assert (rows["global PMP (days)"], rows["updates pushed to the hub"]) == ("23.46", "77")
    assert rows["discrepancies (not pushed)"] == "1"
    assert "signed in the efirma GO simulator" in table.stdout


def test_steps_show_a_spinner_on_a_terminal_and_a_line_as_each_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from rcflow.cli import common

    screen = io.StringIO()
    monkeypatch.setattr(common, "err_console", Console(file=screen, force_terminal=True, width=100),
                        raising=False)  # fmt: skip
    named = logging.getLogger(STEPS_LOGGER)
    handlers = list(named.handlers)
    with pytest.raises(RuntimeError), common.progress_steps(True) as step:
        step("first [step]")
        named.info("second, named by a flow")
        raise RuntimeError("the second step failed")
    shown = screen.getvalue()
    assert "✓" in shown and "first [step]" in shown and "second, named by a flow…" in shown  # markup as typed
    assert shown.count("✓") == 1  # the failed step gets no tick: the command's error line follows
    assert named.handlers == handlers  # nothing listens once the command is done
    quiet = io.StringIO()
    monkeypatch.setattr(common, "err_console", Console(file=quiet), raising=False)
    with common.progress_steps(False) as step:
        step("nothing shown")
    assert quiet.getvalue() == ""
