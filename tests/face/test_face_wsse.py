"""WS-Security signing and verification (rcflow.connectors.face.wsse), without a network.

Each refusal carries FACe's 1xx code; the end-to-end versions over loopback are in
test_face_signing.py.
"""

from __future__ import annotations

import time

import pytest
from lxml import etree

from rcflow.connectors.face import wire
from rcflow.connectors.face.credentials import FaceCredentials
from rcflow.connectors.face.wsse import WSU_ID, SecurityFault, Signer, parse_envelope, verify


def _signed(identity: FaceCredentials, algorithm: str = "sha256", now: float | None = None) -> bytes:
    envelope = wire.request_envelope("descargarFactura", {"numeroRegistro": "202601020701"})
    return Signer(identity, algorithm).sign(envelope, now=now)


def _trust(cert: object) -> None:
    return None


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_a_signed_envelope_verifies_and_vouches_for_its_body(
    client_id: FaceCredentials, algorithm: str
) -> None:
    """Body and Timestamp are signed in exclusive C14N; the verified Body is the one sent."""
    data = _signed(client_id, algorithm)
    assert b"xml-exc-c14n#" in data and f"rsa-{algorithm}".encode() in data
    verified = verify(parse_envelope(data), trusted=_trust)
    assert verified.certificate == client_id.certificate
    assert "202601020701" in etree.tostring(verified.body).decode()


def test_a_tampered_body_is_refused_with_100(client_id: FaceCredentials) -> None:
    data = _signed(client_id).replace(b"202601020701", b"202601020702")
    with pytest.raises(SecurityFault) as caught:
        verify(parse_envelope(data), trusted=_trust)
    assert caught.value.code == "100" and "altered" in caught.value.reason


def test_a_request_signed_by_another_key_is_refused(
    client_id: FaceCredentials, stranger_id: FaceCredentials
) -> None:
    """The token says one certificate, the signature was made with another key."""
    data = _signed(stranger_id)
    envelope = parse_envelope(data)
    token = envelope.find(".//{*}BinarySecurityToken")
    token.text = Signer(client_id)._token  # swap in our certificate, keep the stranger's signature
    with pytest.raises(SecurityFault) as caught:
        verify(envelope, trusted=_trust)
    assert caught.value.code == "100"


def test_trust_decides_105_and_106(client_id: FaceCredentials) -> None:
    envelope = parse_envelope(_signed(client_id))
    with pytest.raises(SecurityFault) as unknown:
        verify(envelope, trusted=lambda c: "not registered for any platform")
    with pytest.raises(SecurityFault) as blocked:
        verify(envelope, trusted=lambda c: "is on a block list")
    assert (unknown.value.code, blocked.value.code) == ("105", "106")
    assert "CN=rcflow platform (tests)" in (unknown.value.signer or "")


def test_an_expired_or_future_timestamp_is_refused(client_id: FaceCredentials) -> None:
    old = _signed(client_id, now=time.time() - 3600)
    future = _signed(client_id, now=time.time() + 3600)
    with pytest.raises(SecurityFault, match="expired"):
        verify(parse_envelope(old), trusted=_trust)
    with pytest.raises(SecurityFault, match="future"):
        verify(parse_envelope(future), trusted=_trust)


def test_sha1_is_refused_unless_accepted(client_id: FaceCredentials) -> None:
    envelope = parse_envelope(_signed(client_id, "sha1"))
    with pytest.raises(SecurityFault, match="bad signature"):
        verify(envelope, trusted=_trust, accepted=("sha256", "sha512"))


def test_a_wrapped_body_is_refused(client_id: FaceCredentials) -> None:
    """Moving the signed Body aside and slipping in another one does not pass."""
    envelope = parse_envelope(_signed(client_id))
    body = envelope.find("{*}Body")
    header = envelope.find("{*}Header")
    header.append(body)  # the signed original hides in the header
    fake = etree.SubElement(envelope, body.tag, {WSU_ID: "evil"})
    etree.SubElement(fake, f"{{{wire.FACE_NS}}}descargarFactura")
    with pytest.raises(SecurityFault) as caught:
        verify(envelope, trusted=_trust)
    assert caught.value.code == "100"


def test_a_duplicated_id_is_refused(client_id: FaceCredentials) -> None:
    envelope = parse_envelope(_signed(client_id))
    body = envelope.find("{*}Body")
    twin = etree.SubElement(envelope.find("{*}Header"), "extra")
    twin.set(WSU_ID, body.get(WSU_ID))
    with pytest.raises(SecurityFault, match="Ambiguous|bad signature"):
        verify(envelope, trusted=_trust)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "101"),
        (b"<not xml", "102"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "102"),
        (
            b"<!--" + b"x" * 5000 + b'--><!DOCTYPE s:Envelope [<!ENTITY e "boom">]><s:Envelope '
            b'xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&e;</s:Body></s:Envelope>',
            "102",
        ),
        (b"<Envelope/>", "102"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', "103"),
    ],
)
def test_malformed_messages_get_their_codes(data: bytes, code: str) -> None:
    with pytest.raises(SecurityFault) as caught:
        parse_envelope(data)
    assert caught.value.code == code


def test_an_unsigned_envelope_is_104() -> None:
    data = etree.tostring(wire.request_envelope("consultarEstados", None))
    with pytest.raises(SecurityFault) as caught:
        verify(parse_envelope(data), trusted=_trust)
    assert caught.value.code == "104"
