"""The layer rules of README's architecture, checked over the import graph (read with ``ast``).

Every import counts: at module level, inside a function (lazy) or under ``TYPE_CHECKING``.
``__main__`` modules are entry points, imported by nothing: they sit above every layer.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEAVES = ("rcflow.clock", "rcflow.store", "rcflow.facturae", "rcflow.taxid", "rcflow.config",
          "rcflow.lifecycle", "rcflow.event_loop", "rcflow.loopback")
HUBS = ("efact", "face")


class Edge(NamedTuple):
    source: str  # the importing module, dotted
    target: str  # the module imported (for ``from m import x``: ``m.x`` when ``m.x`` is a module)
    where: str  # file:line, for the failure message

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> Iterator[tuple[str, int]]:
    """Every module ``source`` imports, anywhere in it, as absolute dotted names with line numbers."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from its package, up level - 1
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # `from rcflow import cli` imports rcflow.cli
                yield f"{target}.{alias.name}", node.lineno


def _graph() -> list[Edge]:
    edges = []
    for folder in ("rcflow", "flows", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "__main__.py":  # an entry point: nothing imports it
                continue
            module = module_name(path)
            text = path.read_text(encoding="utf-8")
            for target, line in imports_of(text, module, is_package=path.name == "__init__.py"):
                edges.append(Edge(module, target, f"{path.relative_to(ROOT)}:{line}"))
    return edges


GRAPH = _graph()


def _within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _violations(
    sources: tuple[str, ...], forbidden: tuple[str, ...], *, allowed_sources: tuple[str, ...] = ()
) -> list[str]:
    return [
        str(e) for e in GRAPH
        if _within(e.source, *sources) and not _within(e.source, *allowed_sources)
        and _within(e.target, *forbidden)
    ]  # fmt: skip


def _none(found: list[str]) -> None:
    """One line per import statement (``from m import x`` is seen as ``m`` and ``m.x``)."""
    lines = list({line.split(": ", 1)[0]: line for line in reversed(found)}.values())[::-1]
    assert not found, "layer rule broken:\n" + "\n".join(lines)


def test_the_library_imports_no_command_line_and_no_prefect_layer() -> None:
    """Nothing under rcflow/ (but the command line itself) imports rcflow.cli, flows or tasks."""
    _none(_violations(("rcflow",), ("rcflow.cli", "flows", "tasks"), allowed_sources=("rcflow.cli",)))


def test_flows_and_tasks_import_no_command_line() -> None:
    _none(_violations(("flows", "tasks"), ("rcflow.cli",)))


def test_push_and_quality_import_nothing_from_ingest() -> None:
    _none(_violations(("rcflow.push", "rcflow.quality"), ("rcflow.ingest",)))


CORE = ("rcflow.ingest", "rcflow.push", "rcflow.quality", "rcflow.reports", "rcflow.warehouse")
# (importing module, hub module) pairs a core package may still use, each with its reason.
CORE_HUB_EXCEPTIONS = {
    # eFACT's technical state codes (2025 /estats codes) belong to eFACT; the suite accepts them
    # beside every hub's public code.
    ("rcflow.quality.suites.invoice_states", "rcflow.connectors.efact.states"),
    ("rcflow.quality.suites.invoice_states", "rcflow.connectors.efact.states.STATE_TABLE"),
}


def test_the_core_imports_no_hub_package() -> None:
    """ingest, push, quality, reports and warehouse speak to hubs through ``rcflow.connectors.base``
    and ``registry`` only: no ``rcflow.connectors.<hub>`` (but the listed exceptions)."""
    hubs = tuple(f"rcflow.connectors.{h}" for h in HUBS)
    found = [
        str(e) for e in GRAPH
        if _within(e.source, *CORE) and _within(e.target, *hubs)
        and (e.source, e.target) not in CORE_HUB_EXCEPTIONS
    ]  # fmt: skip
    _none(found)


def test_the_core_hub_exceptions_are_still_needed() -> None:
    """An exception nobody needs any more is removed from the list, not kept as a loophole."""
    edges = {(e.source, e.target) for e in GRAPH}
    assert edges >= CORE_HUB_EXCEPTIONS


def test_connectors_import_only_the_leaves() -> None:
    """A connector depends on the leaves and the connectors package, nothing of the core."""
    allowed = (*LEAVES, "rcflow.connectors")
    found = [
        str(e) for e in GRAPH
        if _within(e.source, "rcflow.connectors") and _within(e.target, "rcflow")
        and e.target != "rcflow" and not _within(e.target, *allowed)
    ]  # fmt: skip
    _none(found)


def test_the_leaves_import_only_leaves() -> None:
    """clock, config, event_loop, lifecycle, loopback, store, taxid and facturae sit under
    everything: no other layer."""
    found = [
        str(e) for e in GRAPH
        if _within(e.source, *LEAVES) and _within(e.target, "rcflow")
        and e.target != "rcflow" and not _within(e.target, *LEAVES)
    ]  # fmt: skip
    _none(found)


def test_the_root_package_imports_nothing_of_its_own() -> None:
    """``from rcflow import clock`` loads rcflow/__init__.py: it must stay free of rcflow imports."""
    _none([str(e) for e in GRAPH if e.source == "rcflow" and _within(e.target, "rcflow")])


@pytest.mark.parametrize("hub", HUBS)
def test_a_hub_client_imports_no_other_hub(hub: str) -> None:
    """Hub quirks stay in their connector (the simulators, test tools, may share fault injection)."""
    others = tuple(f"rcflow.connectors.{h}" for h in HUBS if h != hub)
    own = f"rcflow.connectors.{hub}"
    _none(_violations((own,), others, allowed_sources=(f"{own}.simulator",)))


def test_the_warehouse_imports_no_higher_package() -> None:
    higher = ("push", "ingest", "quality", "reports", "signing", "cli", "pipeline")
    _none(_violations(("rcflow.warehouse",), tuple(f"rcflow.{p}" for p in higher)))


def test_prefect_settings_are_set_in_one_place() -> None:
    """Only rcflow/prefect_env.py names a PREFECT_* setting as a value (reading one is fine)."""
    setting = re.compile(r"^PREFECT_[A-Z0-9_]+$")
    found = []
    for folder in ("rcflow", "flows", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "rcflow" / "prefect_env.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and setting.match(str(node.value)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}")
    _none(found)


def test_the_graph_sees_lazy_relative_and_from_imports() -> None:
    """The reader itself: a function-level import, a relative one and ``from pkg import module``."""
    source = (
        "from . import sibling\n"
        "from ..cli.common import fail\n"
        "def f():\n"
        "    import flows.sync_flow\n"
        "    from rcflow import cli\n"
    )
    found = {target for target, _ in imports_of(source, "rcflow.push.plan")}
    assert {"rcflow.push.sibling", "rcflow.cli.common", "flows.sync_flow", "rcflow.cli"} <= found
    package = {target for target, _ in imports_of("from .db import x\n", "rcflow.warehouse", is_package=True)}
    assert "rcflow.warehouse.db" in package
    # and on the real tree: the command line's lazy imports are in the graph
    assert any(e.source == "rcflow.cli.common" and e.target == "rcflow.connectors.efact" for e in GRAPH)
    assert any(e.source == "rcflow.cli.pipeline_cmds" and _within(e.target, "flows") for e in GRAPH)
