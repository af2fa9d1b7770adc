"""RD 635/2014 art. 3 scope exclusions and administrations (issue #12, bugs 6 and 7), through
real dbt builds over a real warehouse (ops.scope_exclusions as the accounting import fills it)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from rep_builder import Built, Inv, load

from rcflow import clock
from rcflow.reports import build_reports
from rcflow.reports.administrations import AdministrationsFileError, load_administrations
from rcflow.warehouse import Warehouse

PARENT, DEPENDENT, ALONE = "P0800020F", "Q0800021G", "P0800022H"


def _paid(invoice_id: str, entity: str | None, amount: int, days: int, **kwargs) -> Inv:
    """Registered 01-10-2025 with no conformity, paid ``days`` later (in October)."""
    return Inv(invoice_id, entity, amount, date(2025, 10, 1),
               {"PAID": date(2025, 10, 1 + days)}, **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scope") / "warehouse.duckdb"
    load(path, [
        _paid("parent", PARENT, 1000, 10),
        _paid("dependent", DEPENDENT, 1000, 20),
        _paid("alone", ALONE, 2000, 5),
        _paid("unknown", None, 5000, 25),  # no entity NIF: never pooled
        # A public-body supplier (NIF starting with Q): out of the PMP by the default rule.
        _paid("to_public_body", PARENT, 9000, 29, supplier_nif="Q0801234I"),
        # Declared by the accounting import: an embargo (out of the PMP, still in morosity).
        Inv("embargoed", PARENT, 4000, date(2025, 7, 1), {"ANNOTATED": date(2025, 7, 2)}),
    ], entities=[(PARENT, "Ajuntament"), (DEPENDENT, "Organisme autònom"),
                 (ALONE, "Empresa de serveis")])  # fmt: skip
    with Warehouse(path, lock_timeout=30) as wh:
        wh.append("ops.scope_exclusions", pa.Table.from_pylist([{
            "invoice_id": "embargoed", "reason": "embargo", "note": "Jutjat núm. 3",
            "import_id": "imp-1", "line_no": 7, "recorded_at": datetime(2025, 11, 2, tzinfo=UTC),
        }]))  # fmt: skip
    return path


def _build(warehouse: Path, out: Path, **kwargs) -> Built:
    with clock.pinned("2026-12-06T10:00:00Z"):
        result = build_reports(warehouse, "2025-10", out, reports_db=out / "reports.duckdb",
                               checks=False, **kwargs)  # fmt: skip
    return Built(result, out)


@pytest.fixture(scope="module")
def undeclared(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(warehouse, tmp_path_factory.mktemp("undeclared") / "out")


def test_scope_exclusions_leave_the_pmp_and_are_listed(undeclared):
    """Bug 7: the public-body supplier (NIF rule) and the embargo (accounting import) leave
    the PMP; both are listed with where the exclusion came from."""
    parent = undeclared.row("pmp.csv", entity_nif=PARENT)
    assert (parent["paid_count"], parent["pending_count"], parent["pmp"]) == ("1", "0", "10.00")
    assert (parent["scope_excluded_count"], parent["scope_excluded_amount"]) == ("2", "13000.00")
    listed = {r["invoice_id"]: r for r in undeclared.csv("scope_exclusions.csv")}
    assert {k: (r["reason"], r["source"]) for k, r in listed.items()} == {
        "to_public_body": ("public_body", "nif_rule"), "embargoed": ("embargo", "accounting")}
    assert (listed["embargoed"]["note"], listed["embargoed"]["line_no"]) == ("Jutjat núm. 3", "7")
    assert undeclared.result.headline["scope_excluded_count"] == 2


def test_only_public_bodies_leave_morosity_and_interest(undeclared):
    """Ley 3/2004 covers transactions with businesses: the public-body supplier leaves morosity
    and interest; the embargoed invoice (annotated 02-07, overdue at 31-10) stays there, and on
    the art. 10 list."""
    row = undeclared.row("morosity.csv", entity_nif=PARENT)
    assert (row["paid_in_time_count"], row["pending_late_count"]) == ("1", "1")
    assert (row["scope_excluded_count"], row["scope_excluded_amount"]) == ("1", "9000.00")
    interest = {r["invoice_id"] for r in undeclared.csv("late_interest.csv")}
    assert "embargoed" in interest and "to_public_body" not in interest
    assert [r["invoice_id"] for r in undeclared.csv("pending_recognition.csv")] == ["embargoed"]


def test_without_a_declaration_the_warehouse_is_one_administration(undeclared):
    """Bug 6: nothing declared, one global PMP over the known entities (said on the page);
    invoices with no entity are reported alone, never pooled."""
    rows = {(r["entity_nif"], r["administration_id"]): r for r in undeclared.csv("pmp.csv")}
    assert rows[("(unknown)", "")]["pmp"] == "25.00"
    total = rows[("ALL", "ALL")]
    # parent 1000 × 10, dependent 1000 × 20, alone 2000 × 5 (not the unknown 5000 × 25)
    assert (total["paid_amount"], total["pmp"]) == ("4000.00", "10.00")
    assert undeclared.result.pmp_global == pytest.approx(10.0)
    page = (undeclared.out / "report.html").read_text(encoding="utf-8")
    assert "No administrations declared: the warehouse is taken as one administration" in page


def test_each_declared_administration_gets_its_global_pmp(warehouse, tmp_path):
    """Parent + dependent declared: their global PMP (15.00); the service company, in no
    declaration, alone; the unknown group alone."""
    declaration = tmp_path / "administrations.yaml"
    declaration.write_text(
        f"administrations:\n  - name: Ajuntament i organismes\n    parent: {PARENT}\n"
        f"    dependents: [{DEPENDENT}]\n", encoding="utf-8")  # fmt: skip
    built = _build(warehouse, tmp_path / "out", administrations_file=declaration)
    rows = {(r["entity_nif"], r["administration_id"]): r for r in built.csv("pmp.csv")}
    assert set(rows) == {(PARENT, PARENT), (DEPENDENT, PARENT), (ALONE, ""), ("(unknown)", ""),
                         ("ALL", PARENT)}  # fmt: skip
    total = rows[("ALL", PARENT)]
    assert (total["administration_name"], total["paid_amount"], total["pmp"]) == (
        "Ajuntament i organismes", "2000.00", "15.00")
    assert built.result.pmp_global == pytest.approx(15.0)
    morosity = {(r["entity_nif"], r["administration_id"]) for r in built.csv("morosity.csv")}
    assert ("ALL", PARENT) in morosity and ("ALL", "") not in morosity
    meta = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [a["administration_id"] for a in meta["administrations"]] == [PARENT]
    assert "1 administration(s) declared" in meta["administrations_note"]


@pytest.mark.parametrize(("text", "error"), [
    ("administrations:\n  - name: A\n    parent: nope\n", "administration 1 (A) parent: 'nope' is not a NIF"),
    ("administrations:\n  - parent: P0800020F\n", "administration 1 has no name"),
    ("administrations:\n  - {name: A, parent: P0800020F}\n  - {name: B, parent: P0800020F}\n",
     "administration 2 (B): P0800020F is already in administration 1 (A)"),
    ("- just a list\n", "expected a mapping with 'administrations:'"),
    ("administrations: [\n", "not valid YAML"),
])  # fmt: skip
def test_a_bad_declaration_is_refused_in_one_line(tmp_path, text, error):
    path = tmp_path / "administrations.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AdministrationsFileError) as caught:
        load_administrations(path)
    assert str(caught.value).startswith(str(path)) and error in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_example_declaration_is_valid():
    example = Path(__file__).parents[2] / "data" / "administrations.example.yaml"
    assert [a.name for a in load_administrations(example)] == [
        "Ajuntament de Vilanova i la Geltrú", "Consell Comarcal del Garraf"]
