"""Every deployment in prefect.yaml points at an existing flow with valid parameters and schedules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def deployments() -> list[dict]:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]


def load_flow(entrypoint: str):
    path, name = entrypoint.split(":")
    spec = importlib.util.spec_from_file_location(f"_deploy_{Path(path).stem}", ROOT / path)
    assert spec and spec.loader, entrypoint
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_deployments_cover_every_schedule_the_issue_names() -> None:
    names = {d["name"] for d in deployments()}
    assert {
        "sync-office-hours",
        "push-hourly",
        "checks-nightly",
        "reports-nightly",
        "pmp-monthly",
        "quarterly-morosity-and-art10",
    } <= names


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["name"])
def test_deployment_is_valid(deployment: dict) -> None:
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.flows import Flow

    flow = load_flow(deployment["entrypoint"])
    assert isinstance(flow, Flow)
    flow.validate_parameters(deployment.get("parameters") or {})
    for schedule in deployment.get("schedules") or []:
        CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])
        assert schedule["timezone"] == "Europe/Madrid"
    assert deployment["work_pool"]["name"] == "rcflow-process"


def test_no_secret_in_the_repo_config() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert "RCFLOW_SECRET=" not in text and "secret_block: rcflow-hub-secret" in text


def test_relative_periods_resolve() -> None:
    from datetime import date

    from rcflow.reports.periods import parse_period

    today = date(2026, 1, 5)
    for value in ("last-month", "current-month", "last-quarter", "current-quarter", "2025-Q4"):
        parse_period(value, today)
    assert parse_period("last-quarter", today).label == "2025-Q4"
    assert parse_period("last-month", today).label == "2025-12"
