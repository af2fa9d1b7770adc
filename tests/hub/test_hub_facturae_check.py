"""A 200 answer to a Facturae download is the Facturae file only if its first element is
``Facturae`` (or it is a signed container): a gateway's XML error document or a page of script is
not the document, and is refused before anything is stored (the invoice is left for the next run,
never acknowledged). Supplier files in UTF-16 or Latin-1, with a BOM, comments or a DOCTYPE still
pass (the parser judges and quarantines what it must)."""

from __future__ import annotations

import codecs
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hub_support import ISSUER, SECRET, read_request, serving
from pydantic import SecretStr

from rcflow.connectors.efact import HubClient, HubNotDocument
from rcflow.connectors.efact.documents import HEAD_BYTES, facturae_problem
from rcflow.store import BlobStore

# On both event loops: asyncio's (Prefect's flows) and uvloop's (rcflow's commands).
pytestmark = pytest.mark.both_event_loops

NS = "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae"
BODY = (
    f'<fe:Facturae xmlns:fe="{NS}">'
    + "<FileHeader><SchemaVersion>3.2.1</SchemaVersion></FileHeader></fe:Facturae>"
)
UTF8 = ('<?xml version="1.0" encoding="UTF-8"?>\n' + BODY).encode()
ERROR_DOC = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
SCRIPT_PAGE = b'<script>window.location="https://sso.example.invalid/login?next=/rcf"</script>\n'

ACCEPTED = {
    "UTF-8": UTF8,
    "UTF-8 BOM and white space": codecs.BOM_UTF8 + b"\r\n  " + UTF8,
    "UTF-16 LE, BOM": codecs.BOM_UTF16_LE
    + ('<?xml version="1.0" encoding="UTF-16"?>' + BODY).encode("utf-16-le"),
    "UTF-16 BE, no BOM": ('<?xml version="1.0" encoding="UTF-16"?>' + BODY).encode("utf-16-be"),
    "UTF-16 LE, no BOM": BODY.encode("utf-16-le"),
    "ISO-8859-1": ('<?xml version="1.0" encoding="ISO-8859-1"?>' + BODY.replace("3.2.1<", "3.2.1 é<")).encode(
        "latin-1"
    ),
    "no prefix": b'<Facturae xmlns="' + NS.encode() + b'"/>',
    "comments and a PI": b"<?xml version='1.0'?><!-- a > b --><?xml-stylesheet href='x'?>\n" + BODY.encode(),
    "DOCTYPE, external": b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd">' + BODY.encode(),
    "DOCTYPE, internal subset": (
        b"<!DOCTYPE fe:Facturae [<!ENTITY a \"]>'\"><!-- ]> ' --><?pi ]>?><!ENTITY b 'x'>]>\n" + BODY.encode()
    ),
    "signed container": b"\x30\x82\x01\x00\x06\x09*\x86H\x86\xf7\r\x01\x07\x02",
}
REFUSED = {
    "a gateway's XML error": (ERROR_DOC, "root element is 'Error', not Facturae"),
    "a script page without <html>": (SCRIPT_PAGE, "root element is 'script', not Facturae"),
    "XML, not a Facturae": (b"<?xml version='1.0'?><lolz>&lol;</lolz>", "root element is 'lolz'"),
    "a near name": (b"<fe:FacturaeX/>", "root element is 'fe:FacturaeX'"),
    "case matters": (b"<facturae/>", "root element is 'facturae'"),
    "text after the declaration": (b"<?xml version='1.0'?>Service unavailable", "not an XML element"),
    "a prolog past the head": (b"<!--" + b"x" * HEAD_BYTES + b"--><Facturae/>", "no element in the first"),
    "cut inside the declaration": (b'<?xml version="1.0"', "no element in the first 19 bytes"),
    "UTF-32": (codecs.BOM_UTF32_LE + BODY.encode("utf-32-le"), "neither XML nor a signed"),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_facturae_files_pass(name: str) -> None:
    body = ACCEPTED[name]
    assert facturae_problem("application/xml", body[:HEAD_BYTES], len(body)) is None


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_other_answers_are_not_the_facturae_file(name: str) -> None:
    body, reason = REFUSED[name]
    assert reason in (facturae_problem("application/xml", body[:HEAD_BYTES], len(body)) or "")


@contextmanager
def hub(body: bytes, media_type: bytes) -> Iterator[str]:
    """A hub answering every request 200 with ``body``."""

    def handle(conn: socket.socket) -> None:
        with conn:
            if read_request(conn):
                head = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
                    media_type,
                    len(body),
                )
                conn.sendall(head + body)

    with serving(handle, threaded=True) as (port, _):
        yield f"http://127.0.0.1:{port}/rcf"


@pytest.mark.parametrize(
    ("body", "media_type", "reason"),
    [
        (ERROR_DOC, b"application/xml", "root element is 'Error'"),
        (SCRIPT_PAGE, b"application/octet-stream", "root element is 'script'"),
    ],
)
async def test_a_front_s_answer_to_a_facturae_download_is_refused_and_nothing_stored(
    tmp_path: Path, body: bytes, media_type: bytes, reason: str
) -> None:
    store = BlobStore(tmp_path)
    with hub(body, media_type) as url:
        async with HubClient(url, ISSUER, SecretStr(SECRET), max_retries=0) as client:
            with pytest.raises(HubNotDocument, match=reason):
                await client.facturae("7", store)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("name", ["UTF-16 LE, BOM", "ISO-8859-1", "DOCTYPE, internal subset"])
async def test_facturae_files_in_other_encodings_are_stored(tmp_path: Path, name: str) -> None:
    with hub(ACCEPTED[name], b"application/xml") as url:
        async with HubClient(url, ISSUER, SecretStr(SECRET), max_retries=0) as client:
            download = await client.facturae("7", BlobStore(tmp_path), keep=True)
    assert download.content == ACCEPTED[name]
