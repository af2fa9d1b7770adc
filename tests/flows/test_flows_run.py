"""Real Prefect flows against the simulator, under a Prefect test harness."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.server import start_simulator

ISSUER = "flow_tests"
SECRET = "flow-tests-secret-0123456789-abcdefghijkl"


@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None):
    config = SimConfig(seed=9, invoices=30, backfill=12, entities=2, issuers={ISSUER: SECRET})
    with start_simulator(config) as sim:
        monkeypatch.setenv("RCFLOW_HUB_URL", sim.base_url)
        monkeypatch.setenv("RCFLOW_ISSUER", ISSUER)
        monkeypatch.setenv("RCFLOW_SECRET", SECRET)
        monkeypatch.setenv("RCFLOW_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
        yield sim


def test_sync_and_push_flows_with_artifacts(hub_env, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from flows.push_flow import push_flow
    from flows.sync_flow import sync_flow

    result = asyncio.run(sync_flow())
    assert result["ok"] and result["invoices_new"] == result["invoices_acknowledged"] > 0
    pushed = asyncio.run(push_flow())
    assert pushed["owed"] == 0 and pushed["ok"]

    async def artifacts() -> dict[str, str]:
        async with get_client() as client:
            found = await client.read_artifacts()
        return {a.key: a.data for a in found if a.key}

    found = asyncio.run(artifacts())
    assert "rcflow-sync" in found and "new invoices" in found["rcflow-sync"]
    assert "rcflow-push" in found
    assert SECRET not in "".join(found.values())


BLOCK = "flow-tests-hub-secret"


@pytest.fixture
def secret_in_block(hub_env, monkeypatch: pytest.MonkeyPatch):
    """The secret only in a Prefect Secret block: RCFLOW_SECRET is not set."""
    from prefect.blocks.system import Secret

    monkeypatch.delenv("RCFLOW_SECRET")
    Secret(value=SECRET).save(BLOCK, overwrite=True, _sync=True)
    return hub_env


def test_async_flows_read_the_secret_block(secret_in_block) -> None:
    """The deployed sync and push flows are async: the block is awaited, not a coroutine's `.get`."""
    from flows.push_flow import push_flow
    from flows.sync_flow import sync_flow

    result = asyncio.run(sync_flow(secret_block=BLOCK))
    assert result["ok"] and result["invoices_acknowledged"] > 0  # the hub accepted the block's secret
    assert asyncio.run(push_flow(secret_block=BLOCK))["ok"]


def test_sync_code_reads_the_block_alone_and_under_an_async_parent(secret_in_block) -> None:
    from prefect import flow

    from tasks.settings import flow_settings

    @flow
    def child() -> bool:
        return flow_settings(BLOCK).secret.get_secret_value() == SECRET

    @flow
    async def parent() -> bool:
        return child()

    assert child() is True
    assert asyncio.run(parent()) is True


def test_a_missing_block_is_one_configuration_line(secret_in_block) -> None:
    from rcflow.config import ConfigError
    from tasks.settings import aflow_settings, flow_settings

    with pytest.raises(ConfigError, match="'no-such-block' does not exist.*tasks.secret_block"):
        flow_settings("no-such-block")
    with pytest.raises(ConfigError, match="'no-such-block' does not exist"):
        asyncio.run(aflow_settings("no-such-block"))


def test_a_secret_that_looks_like_a_number_stays_text(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.secret_block import save_secret

    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")  # a block is read for a configured hub
    from tasks.settings import flow_settings

    save_secret("0123456789", "flow-tests-numeric")
    assert flow_settings("flow-tests-numeric").secret.get_secret_value() == "0123456789"


def test_secret_block_command_saves_from_stdin_and_refuses_nothing(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from rcflow.config import ConfigError
    from tasks.secret_block import main
    from tasks.settings import flow_settings

    monkeypatch.setenv("RCFLOW_HUB_URL", "http://127.0.0.1:9/rcf")  # a block is read for a configured hub
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["flow-tests-cli"]) == 2
    assert "no secret given" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="does not exist"):
        flow_settings("flow-tests-cli")  # nothing was saved

    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert main(["flow-tests-cli"]) == 0
    assert SECRET not in capsys.readouterr().out
    assert flow_settings("flow-tests-cli").secret.get_secret_value() == SECRET


FACE_PASSWORD = "flow-tests-face-password-0123456789"


@pytest.fixture
def face_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FACe configured (its files exist), its password only in a block."""
    cert, server = tmp_path / "platform.p12", tmp_path / "face.pem"
    cert.write_bytes(b"-")
    server.write_bytes(b"-")
    values = {"RCFLOW_FACE_URL": "http://127.0.0.1:9/facturasrcf2", "RCFLOW_FACE_CERT": str(cert),
              "RCFLOW_FACE_SERVER_CERT": str(server), "RCFLOW_FACE_OFFICES": "GE0001234"}  # fmt: skip
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_face_password_comes_from_its_block_when_face_is_configured(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from rcflow.config import ConfigError
    from rcflow.connectors.registry import check_hubs
    from tasks.secret_block import main
    from tasks.settings import FACE_PASSWORD_BLOCK, aflow_settings, flow_settings

    # Not configured: the block is not read (a deployment may name it where FACe is not used).
    assert flow_settings(face_password_block="no-such-block").face_cert_password.get_secret_value() == ""
    cert, server = tmp_path / "platform.p12", tmp_path / "face.pem"
    cert.write_bytes(b"-")
    server.write_bytes(b"-")
    monkeypatch.setenv("RCFLOW_FACE_URL", "http://127.0.0.1:9/facturasrcf2")
    with pytest.raises(ConfigError, match="'no-such-block' does not exist.*tasks.secret_block --face"):
        flow_settings(face_password_block="no-such-block")
    monkeypatch.setattr("sys.stdin", io.StringIO(FACE_PASSWORD + "\n"))
    assert main(["--face"]) == 0
    assert capsys.readouterr().out.strip() == f"Prefect Secret block {FACE_PASSWORD_BLOCK!r} saved"
    settings = asyncio.run(aflow_settings(face_password_block=FACE_PASSWORD_BLOCK))
    assert settings.face_cert_password.get_secret_value() == FACE_PASSWORD
    for name, value in {"RCFLOW_FACE_CERT": str(cert), "RCFLOW_FACE_SERVER_CERT": str(server),
                        "RCFLOW_FACE_OFFICES": "GE0001234"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert check_hubs(settings) == ("face",)  # the block's password satisfies the check
    assert FACE_PASSWORD not in repr(settings)


class UnreachableFace:
    source = "face"
    requests = retries = 0

    async def entities(self) -> object:
        from rcflow.connectors.face.errors import FaceTransportError

        raise FaceTransportError("consultarUnidades", "connection refused")

    async def aclose(self) -> None:
        pass


def test_sync_flow_runs_each_hub_and_fails_for_the_one_that_failed(
    hub_env, face_configured, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    from flows.sync_flow import sync_flow
    from rcflow.connectors import registry
    from rcflow.connectors.face.errors import FaceTransportError
    from rcflow.ingest import run

    real = registry.connect
    monkeypatch.setattr(run, "connect", lambda s, store, hub="efact": UnreachableFace() if hub == "face"
                        else real(s, store, hub))  # fmt: skip
    monkeypatch.setenv("RCFLOW_FACE_CERT_PASSWORD", FACE_PASSWORD)
    only_efact = asyncio.run(sync_flow(hub="efact"))
    assert only_efact["ok"] and list(only_efact["hubs"]) == ["efact"]
    with pytest.raises(FaceTransportError, match="no answer from FACe"):
        asyncio.run(sync_flow())

    async def latest_sync_artifact() -> str:
        async with get_client() as client:
            found = await client.read_artifacts()
        return max((a for a in found if a.key == "rcflow-sync"), key=lambda a: a.created).data

    markdown = asyncio.run(latest_sync_artifact())
    assert "| efact · new invoices | " in markdown and "| face · new invoices | 0 |" in markdown
    assert "- face failed: consultarUnidades: no answer from FACe (connection refused)" in markdown
    assert FACE_PASSWORD not in markdown and SECRET not in markdown
