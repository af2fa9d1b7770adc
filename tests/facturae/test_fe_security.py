"""Hostile input: XXE, entity bombs, external DTDs, odd encodings, size limits.

Each layer of ``rcflow.facturae.security`` is also tested on its own, so that losing one of
them makes a test fail even though the others still stop the attack.
"""

from __future__ import annotations

import os
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from rcflow.facturae import FacturaeRejected, parse_facturae, security

Load = Callable[[str], bytes]
FAST = 0.05  # seconds; hostile documents are refused in microseconds, this is headroom


def _rejected(data: bytes, **kwargs: int) -> tuple[FacturaeRejected, float]:
    started = time.perf_counter()
    with pytest.raises(FacturaeRejected) as caught:
        parse_facturae(data, **kwargs)
    return caught.value, time.perf_counter() - started


@pytest.mark.parametrize(
    "name",
    [
        "xxe_file.xml",
        "xxe_parameter.xml",
        "external_dtd.xml",
        "billion_laughs.xml",
        "doctype_after_comment.xml",
    ],
)
def test_dtd_and_entities_are_refused_fast(fixture_bytes: Load, name: str) -> None:
    """Any DOCTYPE is refused before parsing, in milliseconds, without echoing content."""
    rejected, elapsed = _rejected(fixture_bytes(f"hostile/{name}"))
    assert rejected.reason == "dtd_or_entities"
    assert elapsed < FAST
    assert "root:" not in str(rejected)


def test_quadratic_blowup_is_refused_fast() -> None:
    """One big entity referenced many times (no nesting) is refused too."""
    entity = "a" * 100_000
    body = "&big;" * 20_000
    data = (
        f'<?xml version="1.0"?><!DOCTYPE fe:Facturae [<!ENTITY big "{entity}">]>'
        '<fe:Facturae xmlns:fe="http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml">'
        f"<FileHeader><SchemaVersion>{body}</SchemaVersion></FileHeader></fe:Facturae>"
    ).encode()
    rejected, elapsed = _rejected(data)
    assert rejected.reason == "dtd_or_entities"
    assert elapsed < FAST


def test_doctype_in_utf16_is_seen(fixture_bytes: Load) -> None:
    """The prolog scan reads UTF-16 as text, so a DOCTYPE cannot hide in it."""
    text = fixture_bytes("hostile/xxe_file.xml").decode().replace('"UTF-8"', '"UTF-16"')
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        rejected, _ = _rejected(text.encode(encoding))
        assert rejected.reason == "dtd_or_entities"


def test_other_markup_declarations_are_refused() -> None:
    """ENTITY or ELEMENT outside a DOCTYPE count as DTD markup as well."""
    for declaration in ("<!ENTITY x 'y'>", "<!ELEMENT r ANY>", "<!ATTLIST r a CDATA 'b'>"):
        rejected, _ = _rejected(f'<?xml version="1.0"?>{declaration}<r/>'.encode())
        assert rejected.reason == "dtd_or_entities"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "malformed_xml"),
        (b"  \n\t ", "malformed_xml"),
        (b"not xml at all", "malformed_xml"),
        (b'<?xml version="1.0"?>text before root<r/>', "malformed_xml"),
        (b'<?xml version="1.0"?><!doctype r><r/>', "malformed_xml"),
        (b'<?xml version="1.0"?><!-- never closed <r/>', "malformed_xml"),
        (b'<?xml version="1.0"?>', "malformed_xml"),
        (b'<?xml version="1.0" encoding="UTF-7"?>+ADw-r/+AD4-', "malformed_xml"),
        (b'<?xml version="1.0" encoding="x-made-up"?><r/>', "malformed_xml"),
        ('<?xml version="1.0" encoding="cp037"?><r/>'.encode("cp037"), "malformed_xml"),
        ('<?xml version="1.0" encoding="UTF-32"?><r/>'.encode("utf-32"), "malformed_xml"),
        (b"\xef\xbb\xbf<r>\xff\xfe</r>", "malformed_xml"),
        (b'<Facturae xmlns="urn:example:not-facturae"/>', "not_facturae"),
        (b"<Facturae/>", "not_facturae"),
    ],
)
def test_malformed_and_unreadable_input(data: bytes, reason: str) -> None:
    """Empty, broken or unreadable input is refused with a precise reason."""
    rejected, _ = _rejected(data)
    assert rejected.reason == reason


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hostile/malformed.xml", "malformed_xml"),
        ("hostile/wrong_root.xml", "not_facturae"),
        ("hostile/unknown_namespace.xml", "not_facturae"),
    ],
)
def test_hostile_fixtures(fixture_bytes: Load, name: str, reason: str) -> None:
    """Broken or foreign documents are refused, not half-read."""
    rejected, _ = _rejected(fixture_bytes(name))
    assert rejected.reason == reason


def test_size_limit_is_configurable(fixture_bytes: Load) -> None:
    """Over ``max_bytes`` is refused before anything is read."""
    data = fixture_bytes("v322_gob.xml")
    rejected, _ = _rejected(data, max_bytes=len(data) - 1)
    assert rejected.reason == "too_large"
    assert parse_facturae(data, max_bytes=len(data)).total_cents == 115500


def test_default_size_limit_is_50_mb() -> None:
    """A file over 50 MB is refused at once."""
    assert security.DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    rejected, elapsed = _rejected(b"<" + b"a" * security.DEFAULT_MAX_BYTES)
    assert rejected.reason == "too_large"
    assert elapsed < FAST


def test_huge_text_node_is_too_large() -> None:
    """libxml2's text-node limit stays on (huge_tree=False) and reads as too_large."""
    data = (
        b'<fe:Facturae xmlns:fe="http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml">'
        b"<FileHeader>" + b"A" * 11_000_000 + b"</FileHeader></fe:Facturae>"
    )
    rejected, _ = _rejected(data)
    assert rejected.reason == "too_large"


def test_non_bytes_input_is_a_type_error() -> None:
    """Text must be given as the bytes received, never as a decoded str."""
    with pytest.raises(TypeError):
        parse_facturae("<r/>")  # type: ignore[arg-type]


def _opens(parse: Callable[[], object], fifo: Path) -> bool:
    """True if ``parse`` opened ``fifo``: opening a FIFO for reading blocks until a writer."""
    done = threading.Event()

    def run() -> None:
        try:
            parse()
        except Exception:  # only whether it blocked matters here
            pass
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    if done.wait(1.0):
        return False
    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # release the blocked reader
    done.wait(2.0)
    return True


@pytest.mark.parametrize(
    ("template", "control_opens"),
    [
        ('<!DOCTYPE r SYSTEM "{uri}"><r>&leak;</r>', True),
        ('<!DOCTYPE r [<!ENTITY % p SYSTEM "{uri}"> %p;]><r>&leak;</r>', True),
        ('<!DOCTYPE r [<!ENTITY x SYSTEM "{uri}">]><r>&x;</r>', False),
    ],
)
def test_parser_alone_never_opens_files(tmp_path: Path, template: str, control_opens: bool) -> None:
    """Layer 2 without the prolog scan: the parser does not open an external subset or entity.

    The target is a FIFO, so an open would block; the control parser (collect_ids off, no
    deny-all resolver) does open it, which shows the probe works.
    """
    fifo = tmp_path / "probe.dtd"
    os.mkfifo(fifo)
    data = template.format(uri=fifo.as_uri()).encode()
    control = etree.XMLParser(resolve_entities=False, load_dtd=False, collect_ids=False)
    assert _opens(lambda: etree.fromstring(data, control), fifo) is control_opens
    assert not _opens(lambda: etree.fromstring(data, security._parser()), fifo)

    def guarded() -> etree.XMLParser:  # the control parser plus only the deny-all resolver
        parser = etree.XMLParser(resolve_entities=False, load_dtd=False, collect_ids=False)
        parser.resolvers.add(security._DenyAll())
        return parser

    assert not _opens(lambda: etree.fromstring(data, guarded()), fifo)


def test_parser_alone_never_expands_entities(fixture_bytes: Load) -> None:
    """Layer 2 without the prolog scan: internal entities stay unexpanded references."""
    root = etree.fromstring(fixture_bytes("hostile/xxe_file.xml"), security._parser())
    assert b"root:" not in etree.tostring(root)
    with pytest.raises(etree.XMLSyntaxError):  # libxml2's own amplification guard
        etree.fromstring(fixture_bytes("hostile/billion_laughs.xml"), security._parser())


@pytest.mark.parametrize("name", ["xxe_file.xml", "xxe_parameter.xml", "external_dtd.xml"])
def test_docinfo_check_alone_refuses_a_dtd(
    fixture_bytes: Load, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Layer 3 without the prolog scan: a parsed DTD is still refused."""
    monkeypatch.setattr(security, "scan_prolog", lambda data: None)
    rejected, elapsed = _rejected(fixture_bytes(f"hostile/{name}"))
    assert rejected.reason == "dtd_or_entities"
    assert elapsed < FAST


def test_rejection_carries_reason_and_detail_and_pickles() -> None:
    """FacturaeRejected is typed, validated and survives pickling (task boundaries)."""
    error = FacturaeRejected("bad_value", "InvoiceTotal is not a number")
    assert str(error) == "bad_value: InvoiceTotal is not a number"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.detail) == ("bad_value", "InvoiceTotal is not a number")
    with pytest.raises(ValueError):
        FacturaeRejected("oops", "x")  # type: ignore[arg-type]
