"""Is a downloaded body the document? Checks made before anything is stored or acknowledged.

A front (a compressing proxy, a load balancer, an SSO gateway) may answer in the hub's place: a
login page, a "session expired" page, an empty body, compressed bytes. Such an answer is refused
with a one-line reason and the invoice is deferred to the next run, never acknowledged.

* Facturae file: not empty, not HTML, and either a signed container (a DER-encoded CMS/PKCS#7
  structure) or XML whose first element is ``Facturae`` (any prefix), found in the first
  ``HEAD_BYTES`` after an optional BOM (UTF-8, UTF-16; UTF-16 without one by its ``<`` pattern; any
  ASCII-compatible encoding as is), white space, the XML declaration, comments, processing
  instructions and a DOCTYPE (skipped, never read). A gateway's XML error document or a page of
  script is not the document. The parser judges the rest (a broken supplier file is stored and
  quarantined, as before).
* Attachment: any bytes, empty included (suppliers do send empty files), except an HTML page when
  the name the hub gave it says it is something else (``factura.pdf`` served as ``text/html``),
  and gzip or zlib bytes when the name says a format with a signature of its own that the body
  lacks (a ``.pdf`` that a front compressed twice is still compressed once).
  An attachment whose name has no extension is accepted as served: there is nothing to hold it to.
* Receipt: a PDF.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

HEAD_BYTES = 4096  # how much of the decoded body the checks look at
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
HTML_EXTENSIONS = frozenset({"htm", "html", "xhtml", "shtml"})
# Content codings httpx decodes (brotli is a dependency); any other would be stored still encoded.
DECODABLE_ENCODINGS = frozenset({"identity", "gzip", "deflate", "br"})

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# Formats whose files start with a signature: without it, gzip or zlib bytes are still encoded.
SIGNATURES = {
    "pdf": b"%PDF",
    **dict.fromkeys(("xlsx", "docx", "pptx", "odt", "ods", "zip", "jar", "epub"), b"PK"),
    "png": b"\x89PNG",
    **dict.fromkeys(("jpg", "jpeg"), b"\xff\xd8\xff"),
    "gif": b"GIF8",
}
_XML_SPACE = " \t\r\n"
_NAME = re.compile(r"[^\s/>]*")  # a start tag's name, as far as it goes (any prefix, any letters)
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
    if _is_der(_lead(head)):
        return None
    text = _markup(head)
    if text is None:
        return f"neither XML nor a signed Facturae container: {_describe(head)}"
    root = _root(text)
    if root is None:
        return f"no element in the first {min(size, HEAD_BYTES)} bytes where the Facturae file was expected"
    if root.rpartition(":")[2] == "Facturae":
        return None
    if not root:
        return "markup that is not an XML element where the Facturae file was expected"
    return f"markup whose root element is {_printable(root)!r}, not Facturae (a gateway's error document?)"


def attachment_problem(name: str | None, media_type: str | None, head: bytes, size: int) -> str | None:
    ext = extension(name)
    if not ext or ext in HTML_EXTENSIONS:
        return None
    if html := _html(media_type, head):
        return f"{html} where the hub announced a .{ext} file"
    signature = SIGNATURES.get(ext)
    if signature and not head.startswith(signature) and (coded := _compressed(head)):
        return f"{coded} where the hub announced a .{ext} file (compressed twice by a front?)"
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


def _markup(head: bytes) -> str | None:
    """The head as text to find markup in, or None when it does not start as XML (UTF-16 by its
    BOM or ``<`` pattern, as the parser reads it; otherwise one byte, one character)."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32: never read
        return None
    for prefix, skip, encoding in _TEXT_STARTS:
        if head.startswith(prefix):
            data = head[skip:]
            if encoding != "latin-1":
                data = data[: len(data) // 2 * 2]
            text = data.decode(encoding, errors="replace").lstrip(_XML_SPACE)
            return text if text.startswith("<") else None
    return None


_TEXT_STARTS = (
    (codecs.BOM_UTF8, 3, "latin-1"),
    (codecs.BOM_UTF16_LE, 2, "utf-16-le"),
    (codecs.BOM_UTF16_BE, 2, "utf-16-be"),
    (b"<\x00", 0, "utf-16-le"),
    (b"\x00<", 0, "utf-16-be"),
    (b"", 0, "latin-1"),
)


def _root(text: str) -> str | None:
    """The first element's name past the prolog ("" when something else comes first: text, a
    stray ``<``); None when ``text`` ends before it."""
    pos = 0
    while 0 <= pos < len(text):
        pos = _skip_space(text, pos)
        if text.startswith("<?", pos):
            pos = _after(text, "?>", pos + 2)
        elif text.startswith("<!--", pos):
            pos = _after(text, "-->", pos + 4)
        elif text.startswith("<!DOCTYPE", pos):
            pos = _after_doctype(text, pos + 9)
        elif pos < len(text):
            if text[pos] != "<":
                return ""
            name = _NAME.match(text, pos + 1).group()  # type: ignore[union-attr]
            return None if pos + 1 + len(name) >= len(text) else name
    return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _XML_SPACE:
        pos += 1
    return pos


def _after(text: str, end: str, pos: int) -> int:
    """Just past the next ``end`` from ``pos`` (-1: not in ``text``)."""
    found = text.find(end, pos)
    return -1 if found < 0 else found + len(end)


def _after_doctype(text: str, pos: int) -> int:
    """Just past the DOCTYPE whose keyword ends at ``pos`` (-1: not in ``text``). Its internal
    subset is stepped over, quoted literals, comments and processing instructions whole; nothing
    in it is read."""
    subset = False
    while 0 <= pos < len(text):
        char = text[pos]
        if char in "\"'":
            pos = _after(text, char, pos + 1)
        elif text.startswith("<!--", pos):
            pos = _after(text, "-->", pos + 4)
        elif text.startswith("<?", pos):
            pos = _after(text, "?>", pos + 2)
        else:
            if char == ">" and not subset:
                return pos + 1
            subset = (subset or char == "[") and char != "]"
            pos += 1
    return -1


def _is_der(data: bytes) -> bool:
    """A DER/BER SEQUENCE, as a CMS (PKCS#7) signed container starts."""
    return len(data) >= 2 and data[0] == 0x30 and data[1] in (0x80, 0x81, 0x82, 0x83, 0x84)


def _describe(head: bytes) -> str:
    return _compressed(head) or f"it starts with {head[:16]!r}"


def _compressed(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed bytes"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib (deflate) compressed bytes"
    return None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:60]
