"""Strict text: bytes decoded without loss, and characters that must never reach the hub refused.

Decoding (:func:`decode`): a declared encoding (``--encoding``) is used strictly (a single-byte one
is refused for a file that is in fact UTF-8: it would read as mojibake); otherwise a UTF-8
BOM means UTF-8, a UTF-16 BOM means UTF-16 (Excel's "Unicode text"), valid UTF-8 is UTF-8, and a
file that is not UTF-8 anywhere is read as Windows-1252 when every non-ASCII character it gives is
one a Catalan or Spanish text plausibly holds. Anything else is refused with its line and column;
no byte is ever replaced (no U+FFFD).

Characters (:data:`FORBIDDEN`): C0 controls (NUL, ESC, …) but the line breaks and tab that shape
the file, DEL, C1 controls, bidirectional and zero-width format characters, U+2028/U+2029, a BOM
inside the text, and U+FFFD itself (text damaged before it reached rcflow). Inside a field
(:func:`field_problem`) tab and line breaks are refused as well: every value rcflow keeps is one
line of visible text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_FORBIDDEN_CLASS = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but TAB/LF/CR, DEL, C1
    "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"  # bidi and zero-width format
    "\u2028\u2029\ufeff\ufff9-\uffff"  # line/paragraph separators, BOM, specials, U+FFFD
)
FORBIDDEN = re.compile(f"[{_FORBIDDEN_CLASS}]")
FORBIDDEN_IN_FIELD = re.compile(f"[{_FORBIDDEN_CLASS}\t\n\r]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Non-ASCII characters a Windows-1252 accounting file plausibly holds (Catalan, Spanish, the
# neighbours' letters, Excel's typographic punctuation). Ã and Â are left out: they are the mark
# of UTF-8 read as Windows-1252, and of a stray UTF-8 lead byte.
_CP1252_PLAUSIBLE = frozenset(
    "ÀÁÄÇÈÉÊËÌÍÎÏÑÒÓÔÖÙÚÛÜàáâäçèéêëìíîïñòóôöùúûüÿ·ºª¡¿«»€‘’“”–—…°´¨\u00a0ÅåÆæØøßÕõãŒœ"
)
_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 9: "TAB", 10: "LF", 13: "CR", 27: "ESC", 127: "DEL"}
MAX_REPORTED = 20


class TextRefused(Exception):
    """The bytes are not text rcflow can keep without loss; ``problems`` says where."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0])


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # how it was read, for the operator: "utf-8", "windows-1252 (detected)", …


def decode(data: bytes, file: str, declared: str | None = None) -> Decoded:
    """Decode ``data`` strictly (see the module docstring); raises :class:`TextRefused`."""
    if declared:
        codec = _codec(declared, file)
        if not codec.startswith("utf") and (data.startswith(UTF8_BOM) or _is_utf8_text(data)):
            raise TextRefused(
                [f"{file}: {declared} was declared but the file is UTF-8 (it would read as mojibake, "
                 "e.g. 'nÃºmero'); leave --encoding out"]
            )
        body = data[len(UTF8_BOM):] if codec == "utf-8" and data.startswith(UTF8_BOM) else data
        return Decoded(_strict(body, codec, file, why=f"declared {declared}"), f"{declared} (declared)")
    if data.startswith(UTF8_BOM):
        return Decoded(_strict(data[3:], "utf-8", file, why="the file starts with a UTF-8 BOM"), "utf-8")
    if data.startswith(UTF16_BOMS):
        return Decoded(_strict(data, "utf-16", file, why="the file starts with a UTF-16 BOM"), "utf-16")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    where = _byte_position(data, utf8_error.start, "utf-8")
    byte = data[utf8_error.start]
    if _UTF8_MULTIBYTE.search(data):
        raise TextRefused(
            [f"{file}:{where}: invalid UTF-8 (byte 0x{byte:02X}) in a file that is UTF-8 elsewhere: "
             "the file is damaged; nothing was read"]
        )
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise TextRefused(
            [f"{file}:{_byte_position(data, exc.start, 'cp1252')}: byte 0x{data[exc.start]:02X} is neither "
             "UTF-8 nor Windows-1252; declare the encoding with --encoding"]
        ) from None
    odd = next((i for i, ch in enumerate(text) if ord(ch) > 127 and ch not in _CP1252_PLAUSIBLE), None)
    if odd is not None:
        raise TextRefused(
            [f"{file}:{position(text, odd)}: invalid UTF-8 (byte 0x{byte:02X} at {where}) and not plausible "
             f"Windows-1252 ({char_name(text[odd])}); declare the encoding with --encoding"]
        )
    return Decoded(text, "windows-1252 (detected)")


def _is_utf8_text(data: bytes) -> bool:
    """Valid UTF-8 with at least one non-ASCII character (pure ASCII reads the same in any codec)."""
    if not _UTF8_MULTIBYTE.search(data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _codec(name: str, file: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise TextRefused([f"{file}: unknown encoding {name!r} (e.g. utf-8, windows-1252)"]) from None


def _strict(data: bytes, codec: str, file: str, *, why: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.end].hex(" ").upper()
        raise TextRefused(
            [f"{file}:{_byte_position(data, exc.start, codec)}: bytes {bad} are not valid {codec} ({why}); "
             "nothing was read"]
        ) from None


def _byte_position(data: bytes, offset: int, codec: str) -> str:
    """``line:column`` of byte ``offset`` (1-based; the column counts characters)."""
    if codec.startswith(("utf-16", "utf-32")):
        return f"byte {offset + 1}"
    head = data[:offset]
    line = 1 + len(_LINE_BREAK_BYTES.findall(head))
    start = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
    return f"{line}:{len(head[start:].decode(codec, errors='replace')) + 1}"


def position(text: str, index: int) -> str:
    """``line:column`` of character ``index`` in ``text`` (1-based)."""
    head = text[:index]
    line = 1 + len(_LINE_BREAK.findall(head))
    start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return f"{line}:{index - start + 1}"


def char_name(ch: str) -> str:
    """``U+001B (ESC)``: a character named so an operator can find it."""
    code = ord(ch)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(ch, "control" if code < 0xA0 else "format")
    return f"U+{code:04X} ({name})"


def scan(text: str, file: str) -> list[str]:
    """Every forbidden character of a whole text file, by line and column (the first few)."""
    problems = []
    for match in FORBIDDEN.finditer(text):
        problems.append(f"{file}:{position(text, match.start())}: {_refusal(match.group())}")
        if len(problems) == MAX_REPORTED:
            break
    return problems


def field_problem(value: str) -> str | None:
    """Why ``value`` cannot be kept as a field's text, or None."""
    match = FORBIDDEN_IN_FIELD.search(value)
    if match is None:
        return None
    return f"{_refusal(match.group())} at character {match.start() + 1}"


def _refusal(ch: str) -> str:
    if ch == "\ufffd":
        return "U+FFFD (REPLACEMENT CHARACTER): the text was damaged before it reached rcflow"
    return f"control character {char_name(ch)} refused"
