"""Attachment bytes and PDF receipts, generated deterministically and streamed in chunks."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from xml.sax.saxutils import escape

from rcflow.connectors.efact.simulator.clock import fmt_ts, madrid_date
from rcflow.connectors.efact.simulator.facturae import money
from rcflow.connectors.efact.simulator.models import Attachment, Invoice

CHUNK = 64 * 1024
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "zip": "application/zip",
    "xml": "application/xml",
    "txt": "text/plain; charset=UTF-8",
    "bin": "application/octet-stream",
}


class Body:
    """A response body of known length, produced chunk by chunk."""

    def __init__(self, length: int, chunks: Iterator[bytes]) -> None:
        self.length = length
        self.chunks = chunks

    @classmethod
    def of(cls, data: bytes) -> Body:
        return cls(len(data), iter((data,) if data else ()))

    def read(self) -> bytes:
        return b"".join(self.chunks)


# ---------------------------------------------------------------- PDF
def _pdf_text(text: str) -> str:
    raw = text.encode("cp1252", "replace").decode("latin-1")
    return raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_parts(lines: list[str], pad: int) -> tuple[bytes, int, bytes]:
    """A one-page PDF as (prefix, padding length, suffix); the padding is an unused stream."""
    content = "BT /F1 11 Tf 14 TL 56 780 Td " + " ".join(
        f"({_pdf_text(line)}) Tj T*" for line in lines) + " ET"
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    tail = bytearray()
    if pad > 0:
        offsets.append(len(out))
        out += b"%d 0 obj\n<< /Length %d >>\nstream\n" % (len(objects) + 1, pad)
        tail += b"\nendstream\nendobj\n"
    xref_at = len(out) + pad + len(tail)
    tail += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    tail += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    tail += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1, xref_at)
    return bytes(out), max(pad, 0), bytes(tail)


def _random_chunks(rng: random.Random, size: int) -> Iterator[bytes]:
    while size > 0:
        n = min(CHUNK, size)
        yield rng.randbytes(n)
        size -= n


def pdf_body(lines: list[str], size: int, rng: random.Random) -> Body:
    prefix, _, suffix = pdf_parts(lines, 0)
    pad = max(0, size - len(prefix) - len(suffix) - 48) if size > 0 else 0
    prefix, pad, suffix = pdf_parts(lines, pad)

    def chunks() -> Iterator[bytes]:
        yield prefix
        yield from _random_chunks(rng, pad)
        yield suffix

    return Body(len(prefix) + pad + len(suffix), chunks())


def receipt_pdf(inv: Invoice) -> bytes:
    """The hub's electronic receipt (``rebut``) for a registered invoice."""
    lines = [
        "eFACT - Rebut electrònic de presentació de factura",
        "",
        f"Identificador al hub: {inv.id}",
        f"Número de registre: {inv.registry_number}",
        f"Data de registre: {fmt_ts(inv.registry_ms or inv.sent_ms)}",
        f"Proveïdor: {inv.supplier.name} ({inv.supplier.nif})",
        f"Destinatari: {inv.entity.name} ({inv.entity.nif})",
        f"Número de factura: {inv.number}   Data: {inv.issue_date.isoformat()}",
        f"Import: {money(inv.amount_cents)} EUR",
        f"Oficina comptable: {inv.office.accounting}   Òrgan gestor: {inv.office.managing}",
        f"Unitat tramitadora: {inv.office.processing}",
    ]
    prefix, _, suffix = pdf_parts(lines, 0)
    return prefix + suffix


# ---------------------------------------------------------------- images
def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rng: random.Random, comment: str) -> bytes:
    width, height = 48, 32
    r0, g0, b0 = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = b"".join(
        b"\x00" + bytes(
            v for x in range(width)
            for v in ((r0 + x * 3) % 256, (g0 + y * 5) % 256, (b0 + x + y) % 256))
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"tEXt", b"Comment\x00" + comment.encode("latin-1", "replace"))
        + _png_chunk(b"IDAT", zlib.compress(rows, 6))
        + _png_chunk(b"IEND", b"")
    )


# Standard JPEG luminance DC Huffman table (ITU T.81, K.3).
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALS = tuple(range(12))


def _huffman_codes(bits: tuple[int, ...], vals: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    codes, code, k = {}, 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def jpeg_bytes(rng: random.Random, comment: str) -> bytes:
    """A baseline greyscale JPEG of flat 8x8 blocks (DC only): tiny, valid, deterministic."""
    blocks_w, blocks_h = 4, 3
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALS)
    bits: list[str] = []
    previous = 0
    for _ in range(blocks_w * blocks_h):
        dc = (rng.randrange(40, 230) - 128) * 8  # quantisation table of ones
        diff, previous = dc - previous, dc
        size = abs(diff).bit_length()
        code, length = dc_codes[size]
        bits.append(format(code, f"0{length}b"))
        if size:
            extra = diff if diff > 0 else diff + (1 << size) - 1
            bits.append(format(extra, f"0{size}b"))
        bits.append("0")  # AC table has one code, "0" = end of block
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        byte = int(stream[i:i + 8], 2)
        data.append(byte)
        if byte == 0xFF:
            data.append(0)
    note = comment.encode("utf-8")[:200]

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + segment(0xFE, note)
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, struct.pack(">BHHB", 8, blocks_h * 8, blocks_w * 8, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALS))
        + segment(0xC4, b"\x10" + bytes((1,) + (0,) * 15) + b"\x00")
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + bytes(data)
        + b"\xff\xd9"
    )


# ---------------------------------------------------------------- office files
def _zip(files: dict[str, str | bytes], when: tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _ooxml_root(main_part: str, main_type: str, extra: str = "") -> dict[str, str]:
    return {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_CT}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main_part}" ContentType="{main_type}"/>{extra}</Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            f'xmlns="{_REL}"><Relationship Id="rId1" Type="{_DOC}" Target="{main_part}"/>'
            "</Relationships>"),
    }


def xlsx_bytes(rows: list[tuple[str, str]], when: tuple[int, ...]) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    files = _ooxml_root(
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sheet_type}"/>')
    files["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{ns}" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Detall" sheetId="1" r:id="rId1"/></sheets></workbook>')
    files["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_REL}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{escape(a)}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{escape(b)}</t></is></c></row>'
        for r, (a, b) in enumerate(rows, start=1))
    files["xl/worksheets/sheet1.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{ns}">'
        f"<sheetData>{cells}</sheetData></worksheet>")
    return _zip(files, when)  # type: ignore[arg-type]


def docx_bytes(paragraphs: list[str], when: tuple[int, ...]) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    files = _ooxml_root(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    files["word/document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{ns}">'
        f"<w:body>{body}</w:body></w:document>")
    return _zip(files, when)  # type: ignore[arg-type]


# ---------------------------------------------------------------- dispatch
def attachment_body(att: Attachment, inv: Invoice, seed: int) -> Body:
    """The bytes of ``att``: deterministic for (seed, attachment), large ones streamed."""
    if att.content is not None:
        return Body.of(att.content)
    if att.size == 0:
        return Body.of(b"")
    rng = random.Random(f"{seed}/blob/{att.id}")
    day = madrid_date(inv.registry_ms or inv.sent_ms)
    when = (day.year, day.month, day.day, 10, 0, 0)
    lines = [
        f"{inv.supplier.name}",
        f"Factura {inv.number} de {inv.issue_date.isoformat()}",
        f"Destinatari: {inv.entity.name}",
        f"Document: {att.name[:80]}",
        f"Import: {money(inv.amount_cents)} EUR",
    ]
    kind = att.kind
    if kind == "pdf":
        return pdf_body(lines, att.size, rng)
    if kind == "bin":
        size = att.size if att.size > 0 else rng.randrange(1_000, 20_000)
        return Body(size, _random_chunks(rng, size))
    if kind == "png":
        return Body.of(png_bytes(rng, lines[1]))
    if kind == "jpeg":
        return Body.of(jpeg_bytes(rng, lines[1]))
    if kind == "xlsx":
        rows = [("Concepte", "Import")] + [
            (f"Partida {i + 1}", money(rng.randrange(100, 500_000))) for i in range(6)]
        return Body.of(xlsx_bytes(rows, when))
    if kind == "docx":
        return Body.of(docx_bytes(lines + ["Conformitat del servei prestat."], when))
    if kind == "zip":
        return Body.of(_zip({"llegiu-me.txt": "\n".join(lines) + "\n",
                             "detall.csv": "concepte;import\nservei;" + money(inv.amount_cents)},
                            when))
    if kind == "xml":
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Albara xmlns="urn:rcflow:sim:albara">'
            f"<Numero>ALB-{rng.randrange(10**5):05d}</Numero><Data>{day.isoformat()}</Data>"
            f'<Proveidor nif="{escape(inv.supplier.nif)}">{escape(inv.supplier.name)}</Proveidor>'
            f"<Factura>{escape(inv.number)}</Factura></Albara>\n")
        return Body.of(text.encode())
    return Body.of(("\n".join(lines) + "\nObservacions: lliurament correcte, sense incidències.\n")
                   .encode())
