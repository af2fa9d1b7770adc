"""The environment `make install` builds: what every process of the suite and of an operator pays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


@pytest.mark.parametrize("module", ["prefect", "dbt.cli.main", "great_expectations", "duckdb", "pydantic"])
def test_the_libraries_are_installed_compiled_to_bytecode(module: str) -> None:
    """uv installs without compiling (pip compiles), and where PYTHONDONTWRITEBYTECODE is set
    nothing is cached later: each process would compile the library from source again (the
    Makefile's `--compile-bytecode`)."""
    origin = importlib.util.find_spec(module).origin
    assert origin is not None and origin.endswith(".py")
    assert Path(importlib.util.cache_from_source(origin)).is_file(), f"{module} is not compiled: make install"
