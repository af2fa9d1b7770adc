"""Is a downloaded body the document? Checks made before anything is stored or acknowledged.

A front (a compressing proxy, a load balancer, an SSO gateway) may answer in the hub's place: a
login page, a "session expired" page, an empty body, compressed bytes. Such an answer is refused
with a one-line reason and the invoice is deferred to the next run, never acknowledged.

* Facturae file: not empty, not HTML, and XML (after an optional BOM and white space, ``<``) or a
  signed container (a DER-encoded CMS/PKCS#7 structure); the parser judges the rest (a broken
  supplier file is stored and quarantined, as before).
* Attachment: any bytes, empty included (suppliers do send empty files), except an HTML page when
  the name the hub gave it says it is something else (``factura.pdf`` served as ``text/html``).
  An attachment whose name has no extension is accepted as served: there is nothing to hold it to.
* Receipt: a PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEAD_BYTES = 1024  # how much of the decoded body the checks look at
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
HTML_EXTENSIONS = frozenset({"htm", "html", "xhtml", "shtml"})
# Content codings httpx decodes (brotli is a dependency); any other would be stored still encoded.
DECODABLE_ENCODINGS = frozenset({"identity", "gzip", "deflate", "br"})

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_HTML = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Expect:
    """What a download should be: ``facturae``, ``attachment`` (with its hub name) or ``receipt``."""

    kind: str
    name: str | None = None

    def problem(self, media_type: str | None, head: bytes, size: int) -> str | None:
        """Why the body is not the expected document, or None when it plausibly is."""
        if self.kind == "facturae":
            return facturae_problem(media_type, head, size)
        if self.kind == "receipt":
            return receipt_problem(media_type, head, size)
        return attachment_problem(self.name, media_type, head, size)


FACTURAE = Expect("facturae")
RECEIPT = Expect("receipt")


def facturae_problem(media_type: str | None, head: bytes, size: int) -> str | None:
    if size == 0:
        return "an empty body where the Facturae file was expected"
    if html := _html(media_type, head):
        return f"{html} where the Facturae file was expected"
    lead = _lead(head)
    if lead.startswith((b"<", b"\x00<")) or _is_der(lead):
        return None
    return f"neither XML nor a signed Facturae container: {_describe(head)}"


def attachment_problem(name: str | None, media_type: str | None, head: bytes, size: int) -> str | None:
    ext = extension(name)
    if not ext or ext in HTML_EXTENSIONS:
        return None
    if html := _html(media_type, head):
        return f"{html} where the hub announced a .{ext} file"
    return None


def receipt_problem(media_type: str | None, head: bytes, size: int) -> str | None:
    if size == 0:
        return "an empty body where the receipt (PDF) was expected"
    if _lead(head).startswith(b"%PDF-"):
        return None
    return f"{_html(media_type, head) or _describe(head)} where the receipt (PDF) was expected"


def encoding_problem(content_encoding: str | None) -> str | None:
    """A ``Content-Encoding`` the client cannot undo (its bytes would be stored still encoded)."""
    if not content_encoding:
        return None
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    unknown = [c for c in codings if c not in DECODABLE_ENCODINGS]
    if unknown:
        return f"content encoding {_printable(', '.join(unknown))} cannot be decoded"
    return None


def extension(name: str | None) -> str | None:
    """The lower-case extension of a hub-given name (letters and digits only: it is shown)."""
    if not name or "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].strip().lower()
    return ext if ext.isascii() and ext.isalnum() and len(ext) <= 10 else None


def _html(media_type: str | None, head: bytes) -> str | None:
    if media_type and media_type.lower() in HTML_TYPES:
        return f"an HTML page ({media_type.lower()}, e.g. a login or error page)"
    if _HTML.match(_lead(head)):
        return "an HTML page (e.g. a login or error page)"
    return None


def _lead(head: bytes) -> bytes:
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    return head.lstrip()


def _is_der(data: bytes) -> bool:
    """A DER/BER SEQUENCE, as a CMS (PKCS#7) signed container starts."""
    return len(data) >= 2 and data[0] == 0x30 and data[1] in (0x80, 0x81, 0x82, 0x83, 0x84)


def _describe(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed bytes"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib (deflate) compressed bytes"
    return f"it starts with {head[:16]!r}"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:60]
