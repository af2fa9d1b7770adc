"""The certificate and its password: loaded from PKCS#12 or PEM, never shown anywhere."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from rcflow.connectors.face.client import FaceClient
from rcflow.connectors.face.credentials import FaceCredentials, load_credentials, load_trusted_certificates
from rcflow.connectors.face.errors import FaceConfigError
from rcflow.connectors.face.settings import FaceSettings, load_face_settings
from rcflow.connectors.face.simulator import FaceHub, make_identity, write_pem, write_pkcs12
from rcflow.connectors.face.simulator.certs import certificate_pem

PASSWORD = "s3cret-Passw0rd-FACe"


def test_pkcs12_and_pem_files_load(tmp_path: Path, client_id: FaceCredentials) -> None:
    p12 = write_pkcs12(client_id, tmp_path / "platform.p12", PASSWORD)
    pem = write_pem(client_id, tmp_path / "platform.pem", PASSWORD)
    plain = write_pem(client_id, tmp_path / "plain.pem")
    for path, password in ((p12, PASSWORD), (pem, PASSWORD), (plain, None)):
        loaded = load_credentials(path, password)
        assert loaded.certificate == client_id.certificate
    assert oct(p12.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("kind", ["p12", "pem"])
def test_a_wrong_password_is_one_line_without_the_password(
    tmp_path: Path, client_id: FaceCredentials, kind: str
) -> None:
    writer = write_pkcs12 if kind == "p12" else write_pem
    path = writer(client_id, tmp_path / f"platform.{kind}", PASSWORD)
    with pytest.raises(FaceConfigError) as caught:
        load_credentials(path, "wrong-" + PASSWORD)
    message = str(caught.value)
    assert "RCFLOW_FACE_CERT_PASSWORD" in message and "\n" not in message
    assert PASSWORD not in message and caught.value.__cause__ is None


def test_an_encrypted_pem_without_password_says_so(tmp_path: Path, client_id: FaceCredentials) -> None:
    path = write_pem(client_id, tmp_path / "platform.pem", PASSWORD)
    with pytest.raises(FaceConfigError, match="encrypted"):
        load_credentials(path, None)


def test_expired_and_mismatched_certificates_are_refused(
    tmp_path: Path, expired_id: FaceCredentials, client_id: FaceCredentials, stranger_id: FaceCredentials
) -> None:
    with pytest.raises(FaceConfigError, match="has expired"):
        load_credentials(write_pkcs12(expired_id, tmp_path / "old.p12", PASSWORD), PASSWORD)
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(
        certificate_pem(client_id)
        + (write_pem(stranger_id, tmp_path / "s.pem"))
        .read_bytes()
        .split(b"-----END CERTIFICATE-----\n", 1)[1]
    )
    with pytest.raises(FaceConfigError, match="does not belong"):
        load_credentials(mixed)
    with pytest.raises(FaceConfigError, match="cannot read"):
        load_credentials(tmp_path / "missing.p12", PASSWORD)


def test_credentials_never_show_the_key_and_refuse_pickling(client_id: FaceCredentials) -> None:
    shown = repr(client_id) + str(client_id)
    assert "CN=rcflow platform (tests)" in shown and "PRIVATE" not in shown
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(client_id)


def test_settings_hide_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCFLOW_FACE_CERT_PASSWORD", PASSWORD)
    monkeypatch.setenv("RCFLOW_FACE_OFFICES", "l01080193, LA0000001")
    monkeypatch.setenv("RCFLOW_FACE_URL", "https://se-face-webservice.redsara.es/facturasrcf2?wsdl")
    settings = load_face_settings()
    assert settings.offices == ("L01080193", "LA0000001")
    assert settings.url.endswith("/facturasrcf2")
    assert PASSWORD not in repr(settings) + str(settings) + settings.model_dump_json()
    with pytest.raises(FaceConfigError, match="RCFLOW_FACE_CERT is not set"):
        settings.require()
    with pytest.raises(FaceConfigError, match="RCFLOW_FACE_SIGNATURE_ALGORITHM"):
        load_face_settings(signature_algorithm="md5")


async def test_from_settings_builds_a_client_and_logs_no_secret(
    tmp_path: Path,
    client_id: FaceCredentials,
    face_id: FaceCredentials,
    hub: FaceHub,
    server: object,
    caplog: pytest.LogCaptureFixture,
    make_client: Callable[..., FaceClient],
) -> None:
    server_pem = tmp_path / "face.pem"
    server_pem.write_bytes(certificate_pem(face_id) + certificate_pem(make_identity("next FACe cert")))
    assert len(load_trusted_certificates(server_pem)) == 2
    settings = FaceSettings(
        url=server.url,
        cert=write_pkcs12(client_id, tmp_path / "p.p12", PASSWORD),  # type: ignore[attr-defined]
        cert_password=PASSWORD,
        server_cert=server_pem,
    )
    caplog.set_level(logging.DEBUG)
    async with FaceClient.from_settings(settings) as face:
        assert "rcflow platform (tests)" in repr(face) and PASSWORD not in repr(face)
        assert (await face.new_invoices()).invoices
    assert "solicitarNuevasFacturas" in caplog.text
    key_pem = write_pem(client_id, tmp_path / "k.pem").read_bytes().split(b"-----END CERTIFICATE-----\n")[1]
    assert PASSWORD not in caplog.text and key_pem.decode()[40:80] not in caplog.text
