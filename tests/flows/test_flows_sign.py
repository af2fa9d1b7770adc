"""The signing flows under a Prefect test harness, against the efirma GO simulator."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter

from rcflow.signing.efirma.client import EfirmaClient
from rcflow.signing.efirma.settings import EfirmaSettings
from rcflow.signing.efirma.simulator import EfirmaSim, RunningEfirma
from rcflow.signing.signer import Signatory
from rcflow.signing.workflow import Outgoing, send_document
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse

KEY = "pk-flow-0123456789abcdef"


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def signing_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None):
    sim = EfirmaSim(
        private_key=KEY, developer_cif="B65432109", clients={"P0800100J": "i@aj.cat"}, sign_after=None
    )
    with RunningEfirma(sim) as efirma:
        env = {"RCFLOW_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "RCFLOW_EFIRMA_URL": efirma.url,
               "RCFLOW_EFIRMA_PRIVATE_KEY": KEY, "RCFLOW_EFIRMA_DEVELOPER_CIF": "B65432109",
               "RCFLOW_EFIRMA_CLIENT_CIF": "P0800100J", "RCFLOW_EFIRMA_CLIENT_EMAIL": "i@aj.cat",
               "RCFLOW_SIGNATORIES": str(tmp_path / "signatories.yml")}  # fmt: skip
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        (tmp_path / "signatories.yml").write_text("- {role: Interventora, name: Marta, email: m@aj.cat}\n")
        yield efirma, tmp_path


def _send(tmp_path: Path, efirma: RunningEfirma, period: str) -> str:
    settings = EfirmaSettings(url=efirma.url, private_key=KEY, developer_cif="B65432109",
                              client_cif="P0800100J", client_email="i@aj.cat")  # fmt: skip
    doc = Outgoing(
        "pmp", period, "ca", f"PMP {period}", _pdf(), (("Interventora", Signatory("Marta", "m@aj.cat")),)
    )
    with Warehouse(tmp_path / "warehouse.duckdb") as wh, EfirmaClient(settings) as client:
        record = send_document(wh.con, BlobStore(tmp_path / "store"), client, doc)
    assert record.operation_id is not None
    return record.operation_id


def test_collect_flow_stores_signed_and_fails_on_a_rejection(signing_env) -> None:
    from flows.sign_flow import collect_signatures_flow, sign_flow

    efirma, tmp_path = signing_env
    signed = _send(tmp_path, efirma, "2025-10")
    rejected = _send(tmp_path, efirma, "2025-11")
    already = sign_flow(period="2025-10", document="pmp", lang="ca")  # being signed: not sent again
    assert already["operation_id"] == signed and len(efirma.sim.documents) == 2
    efirma.sim.act(signed, "sign")
    efirma.sim.act(rejected, "reject")
    with pytest.raises(RuntimeError, match="1 documents rejected or cancelled"):
        collect_signatures_flow()
    assert efirma.sim.documents[signed].downloaded
    assert collect_signatures_flow() == {"signed": [], "rejected": [], "cancelled": [], "waiting": []}
