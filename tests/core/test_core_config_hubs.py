"""Which hubs are configured, and every configuration problem of every selected hub in one line
(the FACe certificate's password never in it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcflow.config import ConfigError, load_settings
from rcflow.connectors.registry import check_hubs, configured_hubs, connect, one_hub
from rcflow.store import BlobStore

PASSWORD = "face-cert-password-that-never-prints-0123"
EFACT = {"RCFLOW_HUB_URL": "http://127.0.0.1:9/rcf", "RCFLOW_ISSUER": "x", "RCFLOW_SECRET": "s" * 32}


@pytest.fixture
def face_files(tmp_path: Path) -> dict[str, str]:
    """A complete FACe configuration (the files exist; their content is not read here)."""
    cert, server = tmp_path / "platform.p12", tmp_path / "face.pem"
    cert.write_bytes(b"not read by the checks")
    server.write_bytes(b"not read by the checks")
    return {"RCFLOW_FACE_URL": "http://127.0.0.1:9/facturasrcf2?wsdl", "RCFLOW_FACE_CERT": str(cert),
            "RCFLOW_FACE_CERT_PASSWORD": PASSWORD, "RCFLOW_FACE_SERVER_CERT": str(server),
            "RCFLOW_FACE_OFFICES": "ge0001234, GE0005678"}  # fmt: skip


def env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_a_hub_is_configured_by_its_url(monkeypatch: pytest.MonkeyPatch, face_files: dict[str, str]) -> None:
    assert configured_hubs(load_settings()) == ()
    env(monkeypatch, EFACT)
    assert configured_hubs(load_settings()) == ("efact",)
    env(monkeypatch, face_files)
    settings = load_settings()
    assert configured_hubs(settings) == ("efact", "face")
    assert settings.face_url == "http://127.0.0.1:9/facturasrcf2"  # the ?wsdl of the docs dropped
    assert check_hubs(settings) == ("efact", "face") and check_hubs(settings, "face") == ("face",)
    assert one_hub(settings, "efact") == "efact"
    with pytest.raises(ConfigError, match=r"several hubs are configured \(efact, face\): name one"):
        one_hub(settings, None)
    monkeypatch.delenv("RCFLOW_HUB_URL")
    assert configured_hubs(load_settings()) == ("face",)


def test_no_hub_or_an_unknown_or_unconfigured_one_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no hub configured: set RCFLOW_HUB_URL .* RCFLOW_FACE_URL"):
        check_hubs(load_settings())
    env(monkeypatch, EFACT)
    with pytest.raises(ConfigError, match="unknown hub 'peppol': one of efact, face"):
        check_hubs(load_settings(), "peppol")
    with pytest.raises(ConfigError, match="RCFLOW_FACE_URL is not set, so face is not configured.*redsara"):
        check_hubs(load_settings(), "face")


def test_every_problem_of_every_hub_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env(monkeypatch, {"RCFLOW_HUB_URL": "http://127.0.0.1:9/rcf", "RCFLOW_FACE_URL": "http://127.0.0.1:9/f",
                      "RCFLOW_FACE_CERT": str(tmp_path / "platform.p12")})  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        check_hubs(load_settings())
    line = str(caught.value)
    assert "\n" not in line
    for expected in ("RCFLOW_ISSUER is not set", "RCFLOW_SECRET is not set",
                     f"RCFLOW_FACE_CERT: no file at {tmp_path / 'platform.p12'}",
                     "RCFLOW_FACE_SERVER_CERT is not set", "RCFLOW_FACE_OFFICES is not set"):  # fmt: skip
        assert expected in line, expected


def test_a_pkcs12_without_its_password_is_named(
    monkeypatch: pytest.MonkeyPatch, face_files: dict[str, str]
) -> None:
    env(monkeypatch, {**face_files, "RCFLOW_FACE_CERT_PASSWORD": ""})
    expected = r"^RCFLOW_FACE_CERT_PASSWORD is not set \(the passphrase of platform.p12\)$"
    with pytest.raises(ConfigError, match=expected):
        check_hubs(load_settings())
    # A PEM may hold an unencrypted key: no password asked for.
    pem = Path(face_files["RCFLOW_FACE_CERT"]).with_suffix(".pem")
    pem.write_bytes(b"x")
    monkeypatch.setenv("RCFLOW_FACE_CERT", str(pem))
    assert check_hubs(load_settings()) == ("face",)


def test_the_password_never_in_an_error_or_a_repr(
    monkeypatch: pytest.MonkeyPatch, face_files: dict[str, str]
) -> None:
    env(monkeypatch, {**face_files, "RCFLOW_FACE_URL": "ftp://nowhere", "RCFLOW_CONCURRENCY": "many",
                      "RCFLOW_FACE_OFFICES": ""})  # fmt: skip
    with pytest.raises(ConfigError) as invalid:
        load_settings()
    assert "2 invalid settings" in str(invalid.value) and "RCFLOW_FACE_URL is not an http(s) URL" in str(
        invalid.value
    )
    monkeypatch.setenv("RCFLOW_CONCURRENCY", "8")
    monkeypatch.setenv("RCFLOW_FACE_URL", "http://127.0.0.1:9/f")
    settings = load_settings()
    with pytest.raises(ConfigError) as missing:
        check_hubs(settings)
    texts = [str(invalid.value), str(missing.value), repr(settings), str(settings)]
    texts.append(settings.model_dump_json())
    assert settings.face_cert_password.get_secret_value() == PASSWORD
    for text in texts:
        assert PASSWORD not in text


def test_connect_checks_the_hub_it_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env(monkeypatch, {"RCFLOW_HUB_URL": "http://127.0.0.1:9/rcf"})
    with pytest.raises(ConfigError, match=r"RCFLOW_ISSUER is not set \(.*\); RCFLOW_SECRET is not set"):
        connect(load_settings(), BlobStore(tmp_path / "store"))
    env(monkeypatch, EFACT)
    connector = connect(load_settings(), BlobStore(tmp_path / "store"), "efact")
    assert connector.source == "efact"


def test_connect_builds_faces_connector(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rcflow.connectors.face.simulator.certs import certificate_pem, make_identity, write_pkcs12

    platform, face = make_identity("platform"), make_identity("FACe")
    write_pkcs12(platform, tmp_path / "platform.p12", PASSWORD)
    (tmp_path / "face.pem").write_bytes(certificate_pem(face))
    cert, server = str(tmp_path / "platform.p12"), str(tmp_path / "face.pem")
    env(monkeypatch, {"RCFLOW_FACE_URL": "http://127.0.0.1:9/facturasrcf2", "RCFLOW_FACE_OFFICES": "GE01",
                      "RCFLOW_FACE_CERT": cert, "RCFLOW_FACE_CERT_PASSWORD": PASSWORD,
                      "RCFLOW_FACE_SERVER_CERT": server})  # fmt: skip
    connector = connect(load_settings(), None)  # the one configured hub
    assert connector.source == "face" and PASSWORD not in repr(connector)
    monkeypatch.setenv("RCFLOW_FACE_CERT_PASSWORD", "not-the-password")
    with pytest.raises(Exception, match="platform.p12") as wrong:
        connect(load_settings(), None, "face")
    assert "not-the-password" not in str(wrong.value)
