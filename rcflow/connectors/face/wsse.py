"""WS-Security 1.0, X.509 token profile: sign a SOAP 1.1 envelope and verify one, as FACe does.

A signed envelope carries in ``soapenv:Header/wsse:Security`` a ``wsse:BinarySecurityToken`` (the
base64 DER certificate), a ``wsu:Timestamp`` and a ``ds:Signature`` whose two references, in
exclusive C14N, cover the Timestamp and the ``soapenv:Body`` by ``wsu:Id``; ``ds:KeyInfo`` points
at the token through a ``wsse:SecurityTokenReference``. Both sides of the connection use this
module: the client signs requests and verifies FACe's answers, the simulator does the reverse.

Verification trusts only what was signed: the signature must sit in the Security header, its
references must be exactly the envelope's Body and the header's Timestamp (ids unique in the
document: no wrapping), the algorithms must be on the allowed list, the certificate must be
trusted by the caller and valid, and the Timestamp must be current.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.algorithms import SignatureConstructionMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature

from rcflow.connectors.face.credentials import FaceCredentials, describe

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
X509_V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
WSU_ID = f"{{{WSU_NS}}}Id"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0

ALGORITHMS: dict[str, tuple[SignatureMethod, DigestAlgorithm]] = {
    "sha1": (SignatureMethod.RSA_SHA1, DigestAlgorithm.SHA1),
    "sha256": (SignatureMethod.RSA_SHA256, DigestAlgorithm.SHA256),
    "sha512": (SignatureMethod.RSA_SHA512, DigestAlgorithm.SHA512),
}
DEFAULT_ACCEPTED = ("sha1", "sha256", "sha512")  # FACe's clients sign with rsa-sha1 or rsa-sha512

PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_blank_text=False
)


class SecurityFault(Exception):
    """A signed envelope that does not pass; ``code`` is FACe's 1xx for it."""

    def __init__(self, code: str, reason: str, certificate: x509.Certificate | None = None):
        self.code, self.reason, self.certificate = code, reason, certificate
        super().__init__(reason)

    @property
    def signer(self) -> str | None:
        return describe(self.certificate) if self.certificate is not None else None


@dataclass(frozen=True)
class Verified:
    """What a verified envelope vouches for."""

    body: etree._Element
    certificate: x509.Certificate
    created: datetime
    expires: datetime


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class _LegacySigner(XMLSigner):
    """signxml refuses SHA-1 by default; FACe still meets clients that sign rsa-sha1 (opt-in only)."""

    def check_deprecated_methods(self) -> None:
        pass


class Signer:
    """Signs envelopes with one certificate; reuse it for every request."""

    def __init__(self, credentials: FaceCredentials, algorithm: str = "sha512", ttl: int = 300):
        method, digest = ALGORITHMS[algorithm]
        self.credentials = credentials
        self.ttl = ttl
        cls = _LegacySigner if algorithm == "sha1" else XMLSigner
        self._signer = cls(
            method=SignatureConstructionMethod.detached,
            signature_algorithm=method,
            digest_algorithm=digest,
            c14n_algorithm=EXC_C14N,
        )
        self._token = base64.b64encode(credentials.certificate_der).decode()

    def __repr__(self) -> str:
        return f"Signer({self.credentials.description})"

    def sign(self, envelope: etree._Element, *, now: float | None = None) -> bytes:
        """Add the Security header to ``envelope`` (Header and Body present) and serialise it."""
        created = time.time() if now is None else now  # protocol time: the machine's real clock
        suffix = secrets.token_hex(8)
        header = envelope.find(_q(SOAP_NS, "Header"))
        body = envelope.find(_q(SOAP_NS, "Body"))
        assert header is not None and body is not None, "envelope needs a Header and a Body"
        security = etree.SubElement(header, _q(WSSE_NS, "Security"), nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
        security.set(_q(SOAP_NS, "mustUnderstand"), "1")
        token = etree.SubElement(
            security,
            _q(WSSE_NS, "BinarySecurityToken"),
            {"EncodingType": BASE64_BINARY, "ValueType": X509_V3, WSU_ID: f"X509-{suffix}"},
        )
        token.text = self._token
        stamp = etree.SubElement(security, _q(WSU_NS, "Timestamp"), {WSU_ID: f"TS-{suffix}"})
        etree.SubElement(stamp, _q(WSU_NS, "Created")).text = _stamp(created)
        etree.SubElement(stamp, _q(WSU_NS, "Expires")).text = _stamp(created + self.ttl)
        body.set(WSU_ID, f"Body-{suffix}")
        key_info = etree.Element(_q(DS_NS, "KeyInfo"), nsmap={"ds": DS_NS})
        reference = etree.SubElement(
            etree.SubElement(key_info, _q(WSSE_NS, "SecurityTokenReference"), nsmap={"wsse": WSSE_NS}),
            _q(WSSE_NS, "Reference"),
        )
        reference.set("URI", f"#X509-{suffix}")
        reference.set("ValueType", X509_V3)
        signature = self._signer.sign(
            envelope,
            key=self.credentials.key,
            key_info=key_info,
            reference_uri=[f"#TS-{suffix}", f"#Body-{suffix}"],
        )
        security.append(signature)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def parse_envelope(data: bytes) -> etree._Element:
    """The SOAP Envelope of ``data``, parsed safely (no DTD, no entities, no network)."""
    if not data.strip():
        raise SecurityFault("101", "the SOAP message is empty")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise SecurityFault("102", "the SOAP message declares a DOCTYPE (refused)")
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise SecurityFault("102", f"not well-formed XML ({exc.msg})") from None
    if root.getroottree().docinfo.doctype:  # a DOCTYPE behind a long prologue
        raise SecurityFault("102", "the SOAP message declares a DOCTYPE (refused)")
    if root.tag != _q(SOAP_NS, "Envelope"):
        raise SecurityFault("102", f"no SOAP 1.1 Envelope (root is {etree.QName(root).localname})")
    if root.find(_q(SOAP_NS, "Body")) is None:
        raise SecurityFault("103", "no SOAP Body")
    return root


def verify(
    envelope: etree._Element,
    *,
    trusted: Callable[[x509.Certificate], str | None],
    now: float | None = None,
    skew: float = 60.0,
    accepted: Collection[str] = DEFAULT_ACCEPTED,
) -> Verified:
    """Check the envelope's WS-Security signature; ``trusted(cert)`` returns a refusal or None.

    ``trusted`` answers why a certificate is not acceptable (``None`` when it is): unknown to the
    platform, blocked, not the pinned one. Raises :class:`SecurityFault` with FACe's code.
    """
    moment = time.time() if now is None else now
    body = envelope.find(_q(SOAP_NS, "Body"))
    header = envelope.find(_q(SOAP_NS, "Header"))
    if body is None:
        raise SecurityFault("103", "no SOAP Body")
    if header is None:
        raise SecurityFault("104", "no SOAP Header (the message is not signed)")
    security = header.find(_q(WSSE_NS, "Security"))
    if security is None:
        raise SecurityFault("104", "no wsse:Security header (the message is not signed)")
    cert = _token_certificate(security)
    refusal = trusted(cert)
    if refusal is not None:
        code = "106" if "block" in refusal else "105"
        raise SecurityFault(code, refusal, cert)
    stamp = security.find(_q(WSU_NS, "Timestamp"))
    if stamp is None or stamp.get(WSU_ID) is None:
        raise SecurityFault("100", "no wsu:Timestamp with a wsu:Id in the Security header", cert)
    if body.get(WSU_ID) is None:
        raise SecurityFault("100", "the SOAP Body has no wsu:Id: it cannot be signed", cert)
    methods = frozenset(ALGORITHMS[a][0] for a in accepted)
    digests = frozenset(ALGORITHMS[a][1] for a in accepted)
    config = SignatureConfiguration(
        expect_references=2,
        location=f"./{_q(SOAP_NS, 'Header')}/{_q(WSSE_NS, 'Security')}/",
        signature_methods=methods,
        digest_algorithms=digests,
        verification_time=datetime.fromtimestamp(moment, UTC),
    )
    try:
        results = XMLVerifier().verify(envelope, x509_cert=cert, expect_config=config)
    except InvalidDigest as exc:
        raise SecurityFault("100", f"a signed part was altered ({exc})", cert) from None
    except InvalidCertificate as exc:
        raise SecurityFault("100", f"certificate not acceptable ({exc})", cert) from None
    except (InvalidSignature, InvalidInput) as exc:
        raise SecurityFault("100", f"bad signature ({exc})", cert) from None
    signed = {r.signed_xml.get(WSU_ID) for r in results}  # type: ignore[union-attr]
    if signed != {body.get(WSU_ID), stamp.get(WSU_ID)}:
        raise SecurityFault("100", "the signature does not cover exactly the Body and the Timestamp", cert)
    created, expires = _timestamp(stamp, cert)
    if created.timestamp() > moment + skew:
        raise SecurityFault("100", f"the wsu:Timestamp was created in the future ({_iso(created)})", cert)
    if expires.timestamp() < moment - skew:
        raise SecurityFault("100", f"the wsu:Timestamp expired at {_iso(expires)}", cert)
    return Verified(body, cert, created, expires)


def _token_certificate(security: etree._Element) -> x509.Certificate:
    token = security.find(_q(WSSE_NS, "BinarySecurityToken"))
    if token is None or not (token.text or "").strip():
        raise SecurityFault("100", "no wsse:BinarySecurityToken (X.509 certificate) in the header")
    if token.get("ValueType", X509_V3) != X509_V3:
        raise SecurityFault(
            "100", f"the security token is not an X509v3 certificate ({token.get('ValueType')})"
        )
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(token.text.split()), validate=True))
    except (ValueError, binascii.Error):
        raise SecurityFault("100", "the wsse:BinarySecurityToken is not a readable certificate") from None


def _timestamp(stamp: etree._Element, cert: x509.Certificate) -> tuple[datetime, datetime]:
    values = []
    for tag in ("Created", "Expires"):
        text = stamp.findtext(_q(WSU_NS, tag))
        try:
            value = datetime.fromisoformat((text or "").strip())
        except ValueError:
            raise SecurityFault("100", f"unreadable wsu:{tag} {text!r}", cert) from None
        values.append(value if value.tzinfo else value.replace(tzinfo=UTC))
    return values[0], values[1]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
