"""Real report builds shared by the report tests: each runs dbt once over a real warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import rep_scenarios as sc
from rep_builder import Built, load

from rcflow.reports import Readings, build_reports
from rcflow.reports.dbt_runner import REPORTS_PROJECT_DIR


def _project_files() -> set[Path]:
    return {p for p in REPORTS_PROJECT_DIR.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def main_q1(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """§6.1, §6.3, §6.4 and the exclusions, 2025-Q1."""
    root = tmp_path_factory.mktemp("main")
    data = sc.main_q1()
    warehouse = load(root / "warehouse.duckdb", data["invoices"], entities=data["entities"],
                     quarantine=data["quarantine"], accounting=data["accounting"])  # fmt: skip
    before = _project_files()
    result = build_reports(warehouse, "2025-Q1", root / "out",
                           reports_db=root / "out" / "reports.duckdb")
    new_files = _project_files() - before
    assert not new_files, f"the build wrote into reports/: {sorted(new_files)[:5]}"
    return Built(result, root / "out")


@pytest.fixture(scope="session")
def main_q1_without_findings(main_q1: Built, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """main_q1's warehouse under the opt-in reading that leaves quarantined invoices out."""
    out = tmp_path_factory.mktemp("main_without_findings") / "out"
    result = build_reports(main_q1.out.parent / "warehouse.duckdb", "2025-Q1", out,
                           reports_db=out / "reports.duckdb", checks=False,
                           readings=Readings(quarantined_invoices="exclude"))  # fmt: skip
    return Built(result, out)


@pytest.fixture(scope="session")
def old_method_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """§6.2: the §6.1 operations dated 2017, before RD 1040/2017 applied."""
    root = tmp_path_factory.mktemp("old")
    return load(root / "warehouse.duckdb", sc.worked_example(2017), entities=sc.ENTITIES[:1])


@dataclass
class HandRuns:
    q1: Built
    q3: Built
    q1_again: Built


@pytest.fixture(scope="session")
def hand(tmp_path_factory: pytest.TempPathFactory) -> HandRuns:
    """Hand cases and §6.6 for 2025-Q1; later history added; §6.5 in 2025-Q3; Q1 re-run."""
    root = tmp_path_factory.mktemp("hand")
    data = sc.hand_q1()
    warehouse = load(root / "warehouse.duckdb", data["invoices"], entities=data["entities"],
                     accounting=data["accounting"])  # fmt: skip

    def build(period: str, name: str) -> Built:
        out = root / name
        result = build_reports(warehouse, period, out, reports_db=out / "reports.duckdb",
                               checks=False)  # fmt: skip
        return Built(result, out)

    q1 = build("2025-Q1", "q1")  # dbt's own tests run on main_q1 and the empty warehouse
    load(warehouse, sc.hand_later_history(),
         accounting=[("art10_recent", "RECOGNISED", date(2025, 6, 1))])  # fmt: skip
    q3 = build("2025-Q3", "q3")
    return HandRuns(q1, q3, build("2025-Q1", "q1_again"))


@dataclass
class LatePushRuns:
    october_before: Built
    october: Built
    november: Built


@pytest.fixture(scope="session")
def late_push(tmp_path_factory: pytest.TempPathFactory) -> LatePushRuns:
    """October 2025 before and after states dated in October reach the hub in November."""
    root = tmp_path_factory.mktemp("late_push")
    before = sc.late_push_before()
    warehouse = load(root / "warehouse.duckdb", before["invoices"], entities=before["entities"],
                     accounting=before["accounting"])  # fmt: skip

    def build(period: str, name: str) -> Built:
        out = root / name
        result = build_reports(warehouse, period, out, reports_db=out / "reports.duckdb",
                               checks=False)  # fmt: skip
        return Built(result, out)

    october_before = build("2025-10", "october_before")
    after = sc.late_push_after()
    load(warehouse, after["invoices"], accounting=after["accounting"])
    return LatePushRuns(october_before, build("2025-10", "october"), build("2025-11", "november"))
