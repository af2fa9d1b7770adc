"""Layer rules of the packages issue 13 gave an owner: read from the source, every import
(module level or inside a function) counts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "rcflow"

FORBIDDEN = {
    "warehouse": ("rcflow.connectors", "rcflow.ingest", "rcflow.push", "rcflow.quality", "rcflow.reports",
                  "rcflow.cli", "rcflow.signing", "flows", "tasks"),
    "push": ("rcflow.ingest", "rcflow.cli", "flows", "tasks"),
    "quality/record.py": ("rcflow.ingest", "rcflow.push", "rcflow.cli", "flows", "tasks"),
    "quality/runner.py": ("rcflow.ingest", "rcflow.push", "rcflow.cli", "flows", "tasks"),
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_from_the_layers_it_must_not_know(package: str) -> None:
    target = ROOT / package
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    assert files
    wrong = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in _imports(path)
        if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[package])
    }
    assert not wrong, sorted(wrong)
