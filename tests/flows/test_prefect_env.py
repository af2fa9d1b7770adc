"""Prefect's settings in one place, and `.env.example` documenting every setting."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

from pydantic_settings import BaseSettings

from rcflow import prefect_env
from rcflow.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def example_lines() -> dict[str, str]:
    """``NAME=value`` lines of `.env.example` (commented-out ones included, marked with '#')."""
    found = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"(# )?([A-Z][A-Z0-9_]*)=(.*)", line):
            found[m[2]] = ("#" if m[1] else "") + m[3]
    return found


def rcflow_settings_names() -> set[str]:
    """Every environment name of every ``BaseSettings`` class with an ``RCFLOW_`` prefix."""
    names = set()
    for path in (ROOT / "rcflow").rglob("*.py"):
        if 'env_prefix="RCFLOW_' not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for cls in vars(module).values():
            if isinstance(cls, type) and issubclass(cls, BaseSettings) and cls.__module__ == module.__name__:
                prefix = cls.model_config.get("env_prefix", "")
                names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def test_env_example_lists_every_rcflow_setting_with_a_comment() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    names = rcflow_settings_names()
    assert {f"RCFLOW_{field.upper()}" for field in Settings.model_fields} <= names
    assert names <= set(example_lines()), names - set(example_lines())
    for name in names | {"RCFLOW_HOME"}:
        at = next(i for i, line in enumerate(text) if re.match(rf"(# )?{name}=", line))
        assert text[at - 1].startswith("#") and not re.match(r"# ?[A-Z_]+=", text[at - 1]), name
    secrets = {n: v for n, v in example_lines().items() if re.search("SECRET|PASSWORD|PRIVATE_KEY", n)}
    assert "RCFLOW_SECRET" in secrets and set(secrets.values()) <= {"", "#"}  # never a value, even as example


def test_env_example_carries_the_same_prefect_settings_as_the_code() -> None:
    lines = example_lines()
    assert {k: lines.get(k) for k in prefect_env.BASE} == prefect_env.BASE


def test_prefect_reads_the_env_file_in_its_working_folder(tmp_path: Path) -> None:
    """What the README relies on for `prefect server start`: PREFECT_* lines of `.env` apply."""
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # no profile of the developer's
    probe = "from prefect.settings import get_current_settings as s; print(s().server.analytics_enabled)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_apply_keeps_an_operators_own_value(monkeypatch) -> None:
    monkeypatch.setenv("PREFECT_SERVER_LOGGING_LEVEL", "INFO")
    monkeypatch.delenv("PREFECT_SERVER_ANALYTICS_ENABLED", raising=False)
    prefect_env.apply()
    assert os.environ["PREFECT_SERVER_LOGGING_LEVEL"] == "INFO"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert prefect_env.environment({"PATH": "/bin"})["DO_NOT_TRACK"] == "1"
