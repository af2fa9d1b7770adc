"""`rcflow sign` end to end: a real warehouse, a real dbt build, the PDF printed by Chromium, sent to
the efirma GO simulator, followed, collected signed; exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rep_scenarios as sc
from pypdf import PdfReader
from rep_browser import chromium_available
from rep_builder import load

from rcflow.signing.efirma.simulator import EfirmaSim, RunningEfirma

KEY = "pk-cli-0123456789abcdef"
needs_chromium = pytest.mark.skipif(not chromium_available(), reason="chromium is not installed")


def _rcflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rcflow.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


@needs_chromium
def test_sign_a_quarter_then_collect_it_signed(tmp_path: Path) -> None:
    data = sc.main_q1()
    warehouse = load(tmp_path / "warehouse.duckdb", data["invoices"], entities=data["entities"],
                     quarantine=data["quarantine"], accounting=data["accounting"])  # fmt: skip
    people = tmp_path / "signatories.yml"
    people.write_text(
        "- {role: Interventora, name: Marta Puig, email: intervencio@aj.cat, phone: '+34600111222'}\n"
        "- {role: Tresorer, name: Jordi Vila, email: tresoreria@aj.cat, order: 2}\n"
    )
    sim = EfirmaSim(
        private_key=KEY, developer_cif="B65432109", clients={"P0800100J": "i@aj.cat"}, sign_after=None
    )
    with RunningEfirma(sim) as efirma:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_")} | {
            "RCFLOW_WAREHOUSE": str(warehouse), "RCFLOW_SIGNATORIES": str(people), "RCFLOW_LANGUAGE": "es",
            "RCFLOW_EFIRMA_URL": efirma.url, "RCFLOW_EFIRMA_PRIVATE_KEY": KEY,
            "RCFLOW_EFIRMA_DEVELOPER_CIF": "B65432109", "RCFLOW_EFIRMA_CLIENT_CIF": "P0800100J",
            "RCFLOW_EFIRMA_CLIENT_EMAIL": "i@aj.cat",
        }  # fmt: skip
        sent = _rcflow(env, "sign", "--period", "2025-Q1", "--document", "morosity", "--json")
        assert sent.returncode == 0, sent.stderr
        result = json.loads(sent.stdout)
        assert result["state"] == "in_process" and result["pdf"].endswith("morosity.es.pdf")
        text = " ".join(PdfReader(result["pdf"]).pages[-1].extract_text().split())
        assert "Interventora Marta Puig" in text and "Tresorer Jordi Vila" in text
        again = _rcflow(env, "sign", "--period", "2025-Q1", "--document", "morosity", "--json")
        assert json.loads(again.stdout)["operation_id"] == result["operation_id"] and len(sim.documents) == 1

        wrong = _rcflow(env | {"RCFLOW_EFIRMA_PRIVATE_KEY": "nope"}, "sign", "collect")
        assert wrong.returncode == 2 and wrong.stderr.count("\n") == 1
        assert "private key is not valid" in wrong.stderr and "Traceback" not in wrong.stderr
        waiting = _rcflow(env, "sign", "collect", "--json")
        assert waiting.returncode == 0 and json.loads(waiting.stdout)["waiting"] == [result["reference"]]
        sim.act(result["operation_id"], "sign")
        collected = _rcflow(env, "sign", "collect", "--json")
        assert json.loads(collected.stdout)["signed"] == [result["reference"]]
        [row] = json.loads(_rcflow(env, "sign", "status", "--json").stdout)
        assert row["state"] == "signed" and Path(row["signed_pdf"]).read_bytes().startswith(b"%PDF-")
        status = json.loads(_rcflow(env, "status", "--json", "--live").stdout)
        assert [(s["document"], s["period"], s["state"]) for s in status["signatures"]] == [
            ("morosity", "2025-Q1", "signed")
        ]
        assert KEY not in sent.stdout + sent.stderr + collected.stdout + collected.stderr

        monthly = _rcflow(env, "sign", "--period", "2025-02", "--document", "art10")
        assert monthly.returncode == 2 and "art10 is a quarterly document" in monthly.stderr
