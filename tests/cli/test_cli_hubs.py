"""Several hubs on one warehouse: `rcflow sync` drains each configured hub (a recorded run each),
a failing hub does not stop the other and the exit code says it failed; `--hub` narrows a run;
`rcflow status` counts by hub."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import start_simulator

ISSUER = "hubs_tests"
SECRET = "hubs-tests-secret-0123456789-abcdefghijklm"
PASSWORD = "hubs-tests-face-password-0123456789"
runner = CliRunner()


class UnreachableFace:
    """A FACe connector whose hub never answers (FACe's own transport error)."""

    source = "face"
    requests = retries = 0

    async def entities(self) -> object:
        from rcflow.connectors.face.errors import FaceTransportError

        raise FaceTransportError("consultarUnidades", "connection refused")

    async def aclose(self) -> None:
        pass


@pytest.fixture
def two_hubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """eFACT on its simulator; FACe configured (its files exist) but unreachable."""
    from rcflow.connectors import registry
    from rcflow.ingest import run

    cert, server = tmp_path / "platform.p12", tmp_path / "face.pem"
    cert.write_bytes(b"-")
    server.write_bytes(b"-")
    real_connect = registry.connect
    calls: list[str] = []

    def connect(settings, store, hub="efact"):  # type: ignore[no-untyped-def]
        calls.append(hub)
        return UnreachableFace() if hub == "face" else real_connect(settings, store, hub)

    monkeypatch.setattr(run, "connect", connect)
    config = SimConfig(seed=4, invoices=20, backfill=6, entities=2, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        values = {"RCFLOW_HUB_URL": sim.base_url, "RCFLOW_ISSUER": ISSUER, "RCFLOW_SECRET": SECRET,
                  "RCFLOW_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
                  "RCFLOW_FACE_URL": "http://127.0.0.1:9/facturasrcf2", "RCFLOW_FACE_CERT": str(cert),
                  "RCFLOW_FACE_CERT_PASSWORD": PASSWORD, "RCFLOW_FACE_SERVER_CERT": str(server),
                  "RCFLOW_FACE_OFFICES": "GE0001234"}  # fmt: skip
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        yield values, calls


def test_a_failing_hub_does_not_stop_the_other(two_hubs) -> None:
    values, calls = two_hubs
    result = runner.invoke(app, ["sync", "--json"], catch_exceptions=False)
    assert calls == ["efact", "face"]
    assert result.exit_code == 3  # a hub could not be reached
    data = json.loads(result.stdout)
    assert not data["ok"] and data["hubs"]["efact"]["ok"] and data["hubs"]["efact"]["source"] == "efact"
    assert data["invoices_new"] == data["hubs"]["efact"]["invoices_new"] > 0  # the totals
    assert data["failed_hubs"] == {"face": "consultarUnidades: no answer from FACe (connection refused)"}
    assert data["hubs"]["face"]["ok"] is False  # a failed hub says so in its own entry too
    assert result.stderr.strip() == "rcflow: consultarUnidades: no answer from FACe (connection refused)"
    with duckdb.connect(values["RCFLOW_WAREHOUSE"], read_only=True) as con:
        runs = con.execute("select json_extract_string(summary, '$.source'), status, run_id from ops.runs"
                           " where kind = 'sync' order by started_at").fetchall()  # fmt: skip
    assert [(hub, status) for hub, status, _ in runs] == [("efact", "ok"), ("face", "failed")]
    assert runs[0][2].startswith("sync-efact-") and runs[1][2].startswith("sync-face-")

    status = runner.invoke(app, ["status", "--json"], catch_exceptions=False)
    by_hub = json.loads(status.stdout)["invoices_by_hub"]
    assert [(h["hub"], h["count"]) for h in by_hub] == [("efact", data["invoices_new"])]
    last = {(r["kind"], r["hub"]): r["status"] for r in json.loads(status.stdout)["last_runs"]}
    assert last[("sync", "efact")] == "ok" and last[("sync", "face")] == "failed"
    text = runner.invoke(app, ["status"], catch_exceptions=False).stdout
    assert f"invoices by hub: efact {data['invoices_new']}" in text
    for output in (result.stdout, result.stderr, status.stdout, text):
        assert PASSWORD not in output and SECRET not in output
    files = [p for p in Path(values["RCFLOW_WAREHOUSE"]).parent.rglob("*") if p.is_file()]
    assert files and not [p for p in files if PASSWORD.encode() in p.read_bytes()]


def test_hub_narrows_a_run_to_one_hub(two_hubs) -> None:
    _, calls = two_hubs
    result = runner.invoke(app, ["sync", "--hub", "efact"], catch_exceptions=False)
    assert result.exit_code == 0 and calls == ["efact"]
    assert "sync · efact" in result.stdout and "face" not in result.stdout
    failed = runner.invoke(app, ["sync", "--hub", "face"], catch_exceptions=False)
    assert failed.exit_code == 3 and calls == ["efact", "face"]
    unknown = runner.invoke(app, ["sync", "--hub", "peppol"], catch_exceptions=False)
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "rcflow: unknown hub 'peppol': one of efact, face"


def test_every_configuration_problem_of_every_hub_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")
    monkeypatch.setenv("RCFLOW_FACE_URL", "https://se-face-webservice.redsara.es/facturasrcf2?wsdl")
    monkeypatch.setenv("RCFLOW_FACE_CERT_PASSWORD", PASSWORD)
    for command in (["sync"], ["push"]):
        result = runner.invoke(app, command, catch_exceptions=False)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("rcflow: RCFLOW_ISSUER is not set")
        for name in ("RCFLOW_SECRET", "RCFLOW_FACE_CERT", "RCFLOW_FACE_SERVER_CERT", "RCFLOW_FACE_OFFICES"):
            assert f"{name} is not set" in line
        assert PASSWORD not in result.output
    assert not (tmp_path / "w.duckdb").exists()  # nothing ran


def test_backfill_sends_each_id_to_its_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rcflow.ingest.run import hub_of

    assert [hub_of(i) for i in ("159700002", "face:202600000001")] == ["efact", "face"]
    for name, value in EFACT_ONLY.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "w.duckdb"))
    result = runner.invoke(app, ["backfill", "--ids", "face:202600000001"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == "rcflow: ids of face given, but that hub is not configured"
    assert not (tmp_path / "w.duckdb").exists()


EFACT_ONLY = {"RCFLOW_HUB_URL": "http://127.0.0.1:9/rcf", "RCFLOW_ISSUER": ISSUER, "RCFLOW_SECRET": SECRET}


def test_a_push_to_each_hub_one_failing(two_hubs, tmp_path: Path) -> None:
    """FACe's certificate cannot be loaded: its push fails (exit 2, a configuration problem) and is
    recorded as failed, after eFACT got what it was owed."""
    values, _ = two_hubs
    assert runner.invoke(app, ["sync", "--hub", "efact"], catch_exceptions=False).exit_code == 0
    rows = runner.invoke(app, ["sql", "select invoice_id from invoices limit 1", "-f", "json"]).stdout
    invoice_id = json.loads(rows)[0]["invoice_id"]
    events = tmp_path / "events.csv"
    events.write_text(f"invoice_id,state,date,rcf_number\n{invoice_id},ANNOTATED,2025-01-02,RCF-1\n")
    assert runner.invoke(app, ["accounting", "import", str(events)]).exit_code == 0
    plan = json.loads(runner.invoke(app, ["push", "--dry-run", "--json"]).stdout)
    assert plan["owed"] == 1 and plan["hubs"]["efact"]["owed"] == 1 and plan["hubs"]["face"]["owed"] == 0

    result = runner.invoke(app, ["push", "--json"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert data["hubs"]["efact"]["pushed"] == data["pushed"] == 1 and list(data["failed_hubs"]) == ["face"]
    assert result.stderr.strip().startswith("rcflow: ") and len(result.stderr.strip().splitlines()) == 1
    with duckdb.connect(values["RCFLOW_WAREHOUSE"], read_only=True) as con:
        runs = con.execute("select json_extract_string(summary, '$.source'), status from ops.runs"
                           " where kind = 'push' order by started_at").fetchall()  # fmt: skip
    assert runs == [("efact", "ok"), ("face", "failed")]
    assert PASSWORD not in result.output
