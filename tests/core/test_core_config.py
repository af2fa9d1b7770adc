"""Configuration is validated at start with one-line messages; the secret never prints."""

from __future__ import annotations

import pytest

from rcflow.config import ConfigError, load_settings


def test_defaults() -> None:
    s = load_settings()
    assert str(s.warehouse) == "data/warehouse.duckdb"
    assert s.concurrency == 8


def test_missing_secret_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_HUB_URL", "https://efact-pre.aoc.cat/rcf")
    monkeypatch.setenv("RCFLOW_ISSUER", "hub_0012")
    with pytest.raises(ConfigError, match="RCFLOW_SECRET is not set") as info:
        load_settings().require_hub()
    assert "\n" not in str(info.value)


def test_bad_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_HUB_URL", "ftp://example")
    with pytest.raises(ConfigError, match="RCFLOW_HUB_URL") as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_bad_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_CONCURRENCY", "zero")
    with pytest.raises(ConfigError, match="RCFLOW_CONCURRENCY"):
        load_settings()


def test_secret_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_SECRET", "s3cr3t-value-XYZ")
    s = load_settings()
    assert "s3cr3t-value-XYZ" not in repr(s) and "s3cr3t-value-XYZ" not in str(s.model_dump())
    assert s.secret.get_secret_value() == "s3cr3t-value-XYZ"
