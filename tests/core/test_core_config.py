"""Configuration is validated at start with one-line messages; the secret never prints."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("url", ["ftp://hub_0012:p4ssw0rd-XYZ@efact.example/rcf",
                                 "https://hub_0012:p4ssw0rd-XYZ@efact.example/rcf"])
def test_a_password_in_a_hub_url_is_never_printed(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A URL with user-info is refused (the hubs authenticate otherwise), and the message, which
    shows what was given, shows it without the user-info, whatever the scheme."""
    monkeypatch.setenv("RCFLOW_HUB_URL", url)
    with pytest.raises(ConfigError, match="RCFLOW_HUB_URL") as info:
        load_settings()
    assert "p4ssw0rd" not in str(info.value) and "***@efact.example/rcf" in str(info.value)


@pytest.mark.parametrize("case", ["empty", "folder", "through a file"])
def test_a_warehouse_path_that_cannot_be_a_file_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    """It was "unexpected error: IOException ... Is a directory" (or FileExistsError), exit 1,
    after a sync had printed a summary of zeros."""
    (tmp_path / "a.csv").write_text("x")
    value = {"empty": " ", "folder": str(tmp_path),
             "through a file": str(tmp_path / "a.csv" / "w.duckdb")}[case]  # fmt: skip
    monkeypatch.setenv("RCFLOW_WAREHOUSE", value)
    with pytest.raises(ConfigError, match="RCFLOW_WAREHOUSE") as info:
        load_settings()
    assert "\n" not in str(info.value)
    expected = {"empty": "is empty", "folder": "is a folder", "through a file": "is a file, not a folder"}
    assert expected[case] in str(info.value)


def test_bad_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_CONCURRENCY", "zero")
    with pytest.raises(ConfigError, match="RCFLOW_CONCURRENCY"):
        load_settings()


def test_secret_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_SECRET", "s3cr3t-value-XYZ")
    s = load_settings()
    assert "s3cr3t-value-XYZ" not in repr(s) and "s3cr3t-value-XYZ" not in str(s.model_dump())
    assert s.secret.get_secret_value() == "s3cr3t-value-XYZ"


def test_every_invalid_setting_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four mistakes, one message naming all four (with what was given), the secret never shown."""
    monkeypatch.setenv("RCFLOW_HUB_URL", "ftp://example")
    monkeypatch.setenv("RCFLOW_CONCURRENCY", "abc")
    monkeypatch.setenv("RCFLOW_TIMEOUT", "-1")
    monkeypatch.setenv("RCFLOW_TOKEN_LIFETIME", "999")
    monkeypatch.setenv("RCFLOW_SECRET", "s3cr3t-value-XYZ")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("4 invalid settings: ") and "\n" not in message
    for name in ("RCFLOW_HUB_URL", "RCFLOW_CONCURRENCY", "RCFLOW_TIMEOUT", "RCFLOW_TOKEN_LIFETIME"):
        assert name in message
    assert "'abc'" in message and "'999'" in message
    assert "s3cr3t" not in message


def test_every_missing_hub_setting_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_ISSUER", "hub_0012")
    with pytest.raises(ConfigError) as info:
        load_settings().require_hub()
    message = str(info.value)
    assert "RCFLOW_HUB_URL is not set" in message and "RCFLOW_SECRET is not set" in message
    assert "RCFLOW_ISSUER" not in message and "\n" not in message
