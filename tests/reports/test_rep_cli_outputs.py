"""`rcflow report` as an operator types it: a relative period, the XLSX workbook, the pages, CSV
headers and PDFs in a language (--lang, else RCFLOW_LANGUAGE)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import rep_scenarios as sc
from openpyxl import load_workbook
from rep_browser import chromium_available
from rep_builder import load

from rcflow.reports.export import HEADERS, OUTPUTS
from rcflow.reports.i18n import translations

needs_chromium = pytest.mark.skipif(not chromium_available(), reason="chromium is not installed")


@needs_chromium
def test_report_last_quarter_with_workbook_and_spanish_documents(tmp_path: Path) -> None:
    data = sc.main_q1()
    warehouse = load(tmp_path / "warehouse.duckdb", data["invoices"], entities=data["entities"],
                     quarantine=data["quarantine"], accounting=data["accounting"])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_")}
    env |= {"RCFLOW_WAREHOUSE": str(warehouse), "RCFLOW_CLOCK": "2025-04-01T00:30:00+02:00"}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "report", "--period", "last-quarter", "--out", str(out),
         "--xlsx", "--documents", "--lang", "es", "--json"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)
    assert meta["period"] == "2025-Q1"  # 00:30 Madrid on 1 April: Q1 just closed
    assert "headline" in meta and "pmp_global" in meta["headline"]  # report.json keeps English keys
    with open(out / "pmp.csv", newline="", encoding="utf-8") as handle:
        pmp_csv = list(csv.DictReader(handle))
    pmp = "Periodo medio de pago a proveedores (días)"
    sheet = load_workbook(out / "report.xlsx", read_only=True)["pmp"]
    rows = list(sheet.iter_rows(values_only=True))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert list(header) == list(pmp_csv[0]) and float(first[pmp]) == float(pmp_csv[0][pmp])
    assert list(header) == [translations("es").gettext(HEADERS[c]) for c in OUTPUTS[0].columns]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="es">' in page and "Periodo medio de pago a proveedores" in page
    for name in ("pmp", "morosity", "art10", "interest"):
        assert (out / "documents" / f"{name}.es.pdf").read_bytes().startswith(b"%PDF-"), name
    wrong = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "report", "--period", "2025-Q1", "--out", str(out),
         "--documents", "--lang", "fr"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert (
        wrong.returncode == 2 and "unknown language 'fr'" in wrong.stderr and "Traceback" not in wrong.stderr
    )
    env["RCFLOW_LANGUAGE"] = "de"  # the setting is checked too, and names itself
    bad = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "report", "--period", "2025-Q1", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert bad.returncode == 2 and "RCFLOW_LANGUAGE must be one of ca, es, en" in bad.stderr


def test_report_defaults_to_catalan(tmp_path: Path) -> None:
    """Without --lang, RCFLOW_LANGUAGE's default: Catalan pages and CSV headers."""
    data = sc.main_q1()
    warehouse = load(tmp_path / "warehouse.duckdb", data["invoices"], entities=data["entities"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCFLOW_")}
    env |= {"RCFLOW_WAREHOUSE": str(warehouse), "RCFLOW_CLOCK": "2025-04-01T00:30:00+02:00"}
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "rcflow.cli.main", "report", "--period", "2025-Q1", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "pmp.csv").read_text(encoding="utf-8").startswith("NIF de l'entitat,")
    assert '<html lang="ca">' in (out / "dashboard.html").read_text(encoding="utf-8")
