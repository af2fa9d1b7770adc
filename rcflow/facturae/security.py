"""Turning untrusted bytes into an lxml tree without ever expanding, fetching or reading anything.

Three layers, each sufficient against XXE and entity bombs on its own:

1. :func:`scan_prolog` reads the bytes before the root element (the only place a DOCTYPE can
   be) and refuses any markup declaration, before the parser sees a byte;
2. the parser is built with entity resolution, DTD loading, network access and huge trees off,
   and a resolver that answers every external fetch with nothing (libxml2 would otherwise still
   open a local external subset or parameter entity, even with DTD loading off);
3. after parsing, a document whose ``docinfo`` still shows a DTD is refused.

Only encodings whose markup characters rcflow can see are read: UTF-8, ISO-8859-1/-15,
windows-1252, ASCII (byte-compatible with ASCII for ``<!>?``) and UTF-16 with a BOM or an
unmistakable ``<`` pattern.
"""

from __future__ import annotations

import codecs
import re
import threading

from lxml import etree

from rcflow.facturae.errors import FacturaeRejected

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_READABLE_ENCODINGS = frozenset(
    {"utf-8", "iso8859-1", "iso8859-15", "cp1252", "ascii", "utf-16", "utf-16-le", "utf-16-be"}
)
_XML_DECL_ENCODING = re.compile(
    rb"<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._\-]*)[\"']"
)
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY", b"<!ELEMENT", b"<!ATTLIST", b"<!NOTATION")
_WHITESPACE = b" \t\r\n"
_MAX_DETAIL = 160

_local = threading.local()


class _DenyAll(etree.Resolver):
    """Every external DTD, entity or include resolves to empty: no file or network access."""

    def resolve(self, system_url: str, public_id: str | None, context: object) -> object:
        return self.resolve_string("", context)


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe; one per thread, reused across documents.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        parser.resolvers.add(_DenyAll())
        _local.parser = parser
    return parser


def _ascii_view(data: bytes) -> bytes:
    """The bytes to scan for markup: UTF-16 is re-encoded, other readable encodings pass as is."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise FacturaeRejected("malformed_xml", "UTF-32 documents are not read")
    if data.startswith(codecs.BOM_UTF8):
        view = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        view = _reencode(data, "utf-16")
    elif data.startswith(b"<\x00"):
        view = _reencode(data, "utf-16-le")
    elif data.startswith(b"\x00<"):
        view = _reencode(data, "utf-16-be")
    else:
        view = data
    first = view.lstrip(_WHITESPACE)[:1]
    if first != b"<":
        raise FacturaeRejected("malformed_xml", "the document does not start with '<'")
    declared = _XML_DECL_ENCODING.match(view.lstrip(_WHITESPACE))
    if declared:
        name = declared.group(1).decode("ascii")
        try:
            canonical = codecs.lookup(name).name
        except LookupError:
            canonical = ""
        if canonical not in _READABLE_ENCODINGS:
            raise FacturaeRejected("malformed_xml", f"unsupported encoding {name[:40]!r}")
    return view


def _reencode(data: bytes, encoding: str) -> bytes:
    try:
        return data.decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise FacturaeRejected("malformed_xml", f"invalid {encoding} byte sequence") from None


def scan_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE or any other markup declaration before the root element.

    Walks whitespace, the XML declaration, processing instructions and comments up to the
    first start tag; linear in the prolog's length, no parsing, no decoding of ASCII-compatible
    input.
    """
    view = _ascii_view(data)
    pos, end = 0, len(view)
    while pos < end:
        if view[pos] in _WHITESPACE:
            pos += 1
            continue
        if view.startswith(b"<?", pos):
            close = view.find(b"?>", pos + 2)
            if close < 0:
                raise FacturaeRejected("malformed_xml", "unterminated processing instruction")
            pos = close + 2
        elif view.startswith(b"<!--", pos):
            close = view.find(b"-->", pos + 4)
            if close < 0:
                raise FacturaeRejected("malformed_xml", "unterminated comment")
            pos = close + 3
        elif view.startswith(_DECLARATIONS, pos):
            keyword = next(d for d in _DECLARATIONS if view.startswith(d, pos))
            raise FacturaeRejected(
                "dtd_or_entities", f"the document declares {keyword[2:].decode()} before its root"
            )
        elif view.startswith(b"<!", pos):
            raise FacturaeRejected("malformed_xml", "unexpected markup before the root element")
        elif view.startswith(b"<", pos):
            return
        else:
            raise FacturaeRejected("malformed_xml", "text before the root element")
    raise FacturaeRejected("malformed_xml", "no root element")


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` into a tree, or raise :class:`FacturaeRejected`. No I/O of any kind."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_untrusted expects bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise FacturaeRejected("too_large", f"{len(data)} bytes, over the {max_bytes} limit")
    if not data.strip():
        raise FacturaeRejected("malformed_xml", "empty document")
    scan_prolog(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.LxmlError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "not well-formed"
        if "huge" in message.lower():
            raise FacturaeRejected("too_large", message[:_MAX_DETAIL]) from None
        raise FacturaeRejected("malformed_xml", message[:_MAX_DETAIL]) from None
    except ValueError as exc:
        raise FacturaeRejected("malformed_xml", str(exc)[:_MAX_DETAIL]) from None
    if root is None:
        raise FacturaeRejected("malformed_xml", "no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise FacturaeRejected("dtd_or_entities", "the parsed document carries a DTD")
    return root
