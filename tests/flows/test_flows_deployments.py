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
        "sync-efact-office-hours",
        "sync-face-office-hours",
        "push-efact-hourly",
        "push-face-hourly",
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
        assert set(schedule) <= {"cron", "timezone", "active"}
        assert schedule.get("active", True) in (True, False)
    assert deployment["work_pool"]["name"] == "rcflow-process"


def test_no_secret_in_the_repo_config() -> None:
    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert "RCFLOW_SECRET=" not in text and "secret_block: rcflow-hub-secret" in text
    assert "RCFLOW_FACE_CERT_PASSWORD=" not in text
    assert "face_password_block: rcflow-face-cert-password" in text


def test_sync_and_push_are_deployed_per_hub() -> None:
    """Each hub has its sync and push; a hub's deployment names its own secret block only, and
    FACe's schedules start inactive (an eFACT-only installation does not fail every 15 minutes)."""
    from rcflow.config import HUBS
    from tasks.settings import FACE_PASSWORD_BLOCK, SECRET_BLOCK

    block = {"efact": ("secret_block", SECRET_BLOCK), "face": ("face_password_block", FACE_PASSWORD_BLOCK)}
    by_flow: dict[str, dict[str, dict]] = {}
    for d in deployments():
        hub = (d.get("parameters") or {}).get("hub")
        if hub is not None:
            assert hub in HUBS and d["name"].split("-")[1] == hub, d["name"]
            by_flow.setdefault(d["entrypoint"], {})[hub] = d
    assert set(by_flow) == {"flows/sync_flow.py:sync_flow", "flows/push_flow.py:push_flow"}
    for per_hub in by_flow.values():
        assert set(per_hub) == set(HUBS)
        for hub, d in per_hub.items():
            key, name = block[hub]
            assert {k for k in d["parameters"] if k.endswith("block")} == {key}
            assert d["parameters"][key] == name
            assert all(s.get("active", True) is (hub == "efact") for s in d["schedules"])
    pipeline = next(d for d in deployments() if d["name"] == "pipeline-on-demand")["parameters"]
    assert "hub" not in pipeline and pipeline["secret_block"] == SECRET_BLOCK
    assert pipeline["face_password_block"] == FACE_PASSWORD_BLOCK


def test_relative_periods_resolve() -> None:
    from datetime import date

    from rcflow.reports.periods import parse_period

    today = date(2026, 1, 5)
    for value in ("last-month", "current-month", "last-quarter", "current-quarter", "2025-Q4"):
        parse_period(value, today)
    assert parse_period("last-quarter", today).label == "2025-Q4"
    assert parse_period("last-month", today).label == "2025-12"


def test_prefect_reads_the_file_as_prefect_deploy_does() -> None:
    """Prefect's own model of prefect.yaml (schedules refuse unknown keys): FACe's are inactive."""
    from prefect.cli.deploy._models import PrefectYamlModel

    text = (ROOT / "prefect.yaml").read_text(encoding="utf-8")
    model = PrefectYamlModel.model_validate(yaml.safe_load(text))
    inactive = {d.name for d in model.deployments for s in d.schedules or [] if s.active is False}
    assert inactive == {"sync-face-office-hours", "push-face-hourly"}
