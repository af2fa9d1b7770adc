"""The operator's day against the simulator: review quarantines, see what `push` holds back and why,
and the same answer from `status`, `push --dry-run` and the report."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import start_simulator
from rcflow.connectors.efact.states import State
from rcflow.reports import build_reports
from rcflow.reports.export import write_workbook
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quarantine import open_quarantines

ISSUER = "cli_quarantine"
SECRET = "cli-quarantine-secret-0123456789-abcdefghij"
TODAY = date(2025, 11, 20)
runner = CliRunner()


class Cli:
    """The simulator, rcflow's environment for it, and the invoices of the scenario."""

    def __init__(self, sim, env: dict[str, str]):
        self.sim, self.env = sim, env
        self.warehouse = Path(env["RCFLOW_WAREHOUSE"])

    def __call__(self, *args: str, **env: str):
        return runner.invoke(app, list(args), env={**self.env, **env}, catch_exceptions=False)

    def json(self, *args: str) -> object:
        result = self(*args)
        return json.loads(result.stdout)

    def patches(self) -> Counter:
        return Counter(
            (r.invoice_id, str((r.body or {}).get("estat", "")).strip())
            for r in self.sim.hub.log.records()
            if r.method == "PATCH"
        )


def quarantine(path: Path, rows: list[tuple[str, str, str]], *, stage: str) -> None:
    table = pa.table(
        {"invoice_id": [r[0] for r in rows], "reason": [r[1] for r in rows], "detail": [r[2] for r in rows]}
    )
    with Warehouse(path) as wh, wh.registered("_affected", table):
        open_quarantines(wh.con, "_affected", stage=stage, at=wh.fetch("select now()")[0][0])


@pytest.fixture
def cli(tmp_path: Path):
    """Invoices a…f synced; a (quality) and b (facturae) blocked, c quality but REJECTED by the
    accounting system, d quality (to be released), e clean, f quality with nothing owed."""
    config = SimConfig(seed=11, invoices=20, backfill=0, entities=2, today=TODAY, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        env = {
            "RCFLOW_HUB_URL": sim.base_url,
            "RCFLOW_ISSUER": ISSUER,
            "RCFLOW_SECRET": SECRET,
            "RCFLOW_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        }
        c = Cli(sim, env)
        assert c("sync").exit_code == 0
        ids = [
            r["invoice_id"] for r in c.json("sql", "select invoice_id from invoices order by 1", "-f", "json")
        ]
        c.ids = dict(zip("abcdef", ids[:6], strict=True))
        i = c.ids
        events = tmp_path / "events.csv"
        lines = ["invoice_id,state,date,rcf_number,reason_code,reason"]
        lines += [f"{i[k]},ANNOTATED,2025-11-10,RCF-{k},," for k in "abcde"]
        lines += [f"{i['b']},RECOGNISED,2025-11-12,,,", f"{i['c']},REJECTED,2025-11-12,,E01,L'XML no quadra"]
        events.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert c("accounting", "import", str(events)).exit_code == 0
        detail = "total: hub 121.00, xml 12.10"
        quarantine(c.warehouse, [(i[k], "xml_matches_hub", detail) for k in "acdf"], stage="quality")
        quarantine(c.warehouse, [(i["b"], "malformed_xml", "line 3: not well-formed")], stage="facturae")
        yield c


def test_push_names_what_it_blocks_and_a_release_is_pushed_next_run(cli: Cli) -> None:
    i = cli.ids
    released = cli(
        "quarantine", "release", i["d"], "--reason", "the supplier confirmed the total", "--by", "ana"
    )
    assert released.exit_code == 0 and "1 findings released by ana" in released.stdout

    first = cli("push")
    assert first.exit_code == 1, first.output  # something needs attention
    text = first.stdout
    assert f"blocked  {i['a']}  ANNOTATED  quality: xml_matches_hub" in text
    assert f"blocked  {i['b']}  ANNOTATED, RECOGNISED  facturae: malformed_xml" in text
    hub = cli.sim.hub.invoices
    assert hub[i["c"]].state is State.REJECTED  # REJECTED is the remedy: passes the quality finding
    assert hub[i["d"]].state is State.ANNOTATED  # released
    assert hub[i["e"]].state is State.ANNOTATED
    assert (i["a"], "ANNOTATED") not in cli.patches() and (i["b"], "ANNOTATED") not in cli.patches()

    cli("quarantine", "release", i["a"], i["b"], "--reason", "checked by hand", "--by", "ana")
    second = cli("push", "--json")
    summary = json.loads(second.stdout)
    assert second.exit_code == 0 and summary["pushed"] == 3 and summary["held_back"] == []
    assert hub[i["a"]].state is State.ANNOTATED and hub[i["b"]].state is State.RECOGNISED
    assert set(cli.patches().values()) == {1}  # each state sent once


def test_list_release_reopen_are_audited(cli: Cli) -> None:
    i = cli.ids
    listed = cli.json("quarantine", "list", "--json")
    assert {(f["invoice_id"], f["status"]) for f in listed} == {
        (i["a"], "held"),
        (i["b"], "held"),
        (i["d"], "held"),
        (i["f"], "held"),
    }
    by_id = {f["invoice_id"]: f for f in listed}
    assert by_id[i["b"]]["holds_back"] == ["ANNOTATED", "RECOGNISED"] and by_id[i["f"]]["holds_back"] == []
    assert by_id[i["a"]]["reason"] == "xml_matches_hub" and by_id[i["a"]]["since"]
    everything = cli.json("quarantine", "list", "--all", "--json")
    assert any(f["invoice_id"] == i["c"] and f["status"].startswith("passed") for f in everything)

    clock = {"RCFLOW_CLOCK": "2025-11-21T08:00:00Z", "USER": "tesoreria"}
    assert cli("quarantine", "release", i["a"], "--reason", "total confirmed", **clock).exit_code == 0
    clock["RCFLOW_CLOCK"] = "2025-11-21T09:30:00Z"
    assert (
        cli("quarantine", "reopen", i["a"], "--reason", "second thoughts", "--by", "ana", **clock).exit_code
        == 0
    )
    with Warehouse(cli.warehouse, publish=False) as wh:
        reviews = wh.fetch(
            "select action, invoice_id, reason, reviewed_by, strftime(reviewed_at, '%H:%M'), note"
            " from ops.quarantine_reviews order by review_id"
        )
        kept = wh.fetch("select count(*) from ops.quarantine where invoice_id = ?", [i["a"]])
    assert reviews == [
        ("release", i["a"], "xml_matches_hub", "tesoreria", "08:00", "total confirmed"),
        ("reopen", i["a"], "xml_matches_hub", "ana", "09:30", "second thoughts"),
    ]
    assert kept == [(1,)]
    assert cli.json("push", "--dry-run", "--json")["blocked"][0]["invoice_id"] == i["a"]  # held again

    unknown = cli("quarantine", "release", i["e"], "--reason", "x", "--by", "ana")
    assert unknown.exit_code == 2 and f"no open quarantine for {i['e']}" in unknown.output
    missing = cli("quarantine", "release", i["a"], "--by", "ana")
    assert missing.exit_code == 2  # --reason is required


def test_a_refused_update_is_not_resent_and_status_shows_why(cli: Cli) -> None:
    e = cli.ids["e"]
    since = cli.sim.hub.log.records()[-1].seq

    def patches_to_e() -> int:  # an injected answer carries no parsed body: count the calls
        return sum(
            1 for r in cli.sim.hub.log.records(since) if r.method == "PATCH" and r.path == f"/factura/{e}"
        )

    cli.sim.hub.inject("PATCH", rf"^/factura/{e}$", status=400, code=3007, times=None)
    first = cli("push")
    assert first.exit_code == 1 and f"refused  {e}  ANNOTATED  code 3007" in first.stdout
    again = cli("push", "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["refused"] == []
    assert patches_to_e() == 1  # not re-sent: the data did not change
    status = cli.json("status", "--json")
    [refused] = status["refused_updates"]
    assert (refused["invoice_id"], refused["state"], refused["http_status"], refused["code"]) == (
        e,
        "ANNOTATED",
        400,
        "3007",
    )
    assert refused["reason"]
    plan = cli.json("push", "--dry-run", "--json")
    assert [(h["invoice_id"], h["states"]) for h in plan["refused"]] == [(e, ["ANNOTATED"])]
    # The hub's side is fixed: the operator asks for a retry of the same payload.
    cli.sim.hub.clear_injections()
    retried = cli("push", "--retry-refused")
    assert patches_to_e() == 2 and cli.sim.hub.invoices[e].state is State.ANNOTATED
    assert "1 refused updates made owed again" in retried.output


def _report_blocked(built: Path, reasons: str = "quarantine_reasons") -> dict[str, tuple[set[str], str]]:
    """The report's invoices with a quarantine reason and updates owed to the hub."""
    with duckdb.connect(str(built / "reports.duckdb"), read_only=True) as con:
        rows = con.execute(
            f"select invoice_id, owed_to_hub_states, {reasons} from main.invoice_status"
            f" where {reasons} is not null and owed_to_hub_count > 0"
        ).fetchall()
    return {i: (set(states.split(", ")), why) for i, states, why in rows}


def _build(warehouse: Path, out: Path) -> Path:
    build_reports(warehouse, "2025-11", out, reports_db=out / "reports.duckdb", checks=False)
    return out


def _cli_blocked(cli: Cli) -> tuple[dict, dict]:
    status = {
        b["invoice_id"]: (set(b["states"]), b["reason"]) for b in cli.json("status", "--json")["blocked"]
    }
    dry = cli("push", "--dry-run", "--json")
    assert dry.exit_code == 1
    plan = {b["invoice_id"]: (set(b["states"]), b["reason"]) for b in json.loads(dry.stdout)["blocked"]}
    return status, plan


def test_status_dry_run_and_report_agree_on_what_is_blocked_and_why(cli: Cli, tmp_path: Path) -> None:
    i = cli.ids
    status, plan = _cli_blocked(cli)
    expected = {
        i["a"]: ({"ANNOTATED"}, "quality: xml_matches_hub"),
        i["b"]: ({"ANNOTATED", "RECOGNISED"}, "facturae: malformed_xml"),
        i["d"]: ({"ANNOTATED"}, "quality: xml_matches_hub"),
    }
    assert status == plan == expected
    built = _build(cli.warehouse, tmp_path / "report")
    report = _report_blocked(built)
    # Findings nobody reviewed: the report names the same invoices, states and reasons.
    assert {k: report[k] for k in expected} == expected
    # The same tables as a workbook, read back typed.
    with duckdb.connect(str(built / "reports.duckdb"), read_only=True) as con:
        book = openpyxl.load_workbook(write_workbook(con, tmp_path / "report.xlsx"), read_only=True)
        obligations = con.execute("select count(*) from main.obligations").fetchone()[0]
    sheet = book["obligations"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == obligations + 1 and obligations > 0
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert isinstance(first["amount"], float) and isinstance(first["since_on"], datetime)


def test_report_agrees_after_a_release_and_a_rejection(cli: Cli, tmp_path: Path) -> None:
    i = cli.ids
    cli("quarantine", "release", i["d"], "--reason", "checked", "--by", "ana")
    status, plan = _cli_blocked(cli)
    assert status == plan and set(plan) == {i["a"], i["b"]}  # d released, c passed by its REJECTED
    built = _build(cli.warehouse, tmp_path / "report")
    assert _report_blocked(built, "push_blocked_reasons") == plan
