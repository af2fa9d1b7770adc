"""Reading hub ids out of an old eFACT FTP mailbox archive, for backfill.

Two sources, per ``shared/domain/efact.md``: file names ``issuer@receiver@reference@hubid[.ext]``
and DeliveryFeedback status XMLs (``DeliveryFeedback/StatusFeedback/HubFeedback/HubId``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

_HUB_ID = re.compile(r"^\d{1,20}$")
MAX_STATUS_XML = 5 * 1024 * 1024


def id_from_name(name: str) -> str | None:
    parts = name.split("@")
    if len(parts) < 4:
        return None
    candidate = parts[3].split(".", 1)[0].strip()
    return candidate if _HUB_ID.match(candidate) else None


def ids_from_status_xml(data: bytes) -> list[str]:
    """HubIds in a DeliveryFeedback document (namespace-agnostic, entities refused)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException, ValueError):
        return []
    found = []
    for element in root.iter():
        if _local(element.tag) == "HubId" and element.text and _HUB_ID.match(element.text.strip()):
            found.append(element.text.strip())
    return found


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def ids_from_archive(folder: Path) -> list[str]:
    """Every hub id found in ``folder`` (recursively), in a stable order, without duplicates."""
    ids: dict[str, None] = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        from_name = id_from_name(path.name)
        if from_name:
            ids[from_name] = None
            continue
        if path.suffix.lower() == ".xml" and path.stat().st_size <= MAX_STATUS_XML:
            head = path.read_bytes()
            if b"DeliveryFeedback" in head:
                for hub_id in ids_from_status_xml(head):
                    ids[hub_id] = None
    return list(ids)


class IdsError(ValueError):
    """An ``--ids`` value that is no hub id, no file and no folder (the message is the one line)."""


ID_FORMS = "eFACT's are digits like 159700001, FACe's face:<numeroRegistro>"
_PATH_SEPARATORS = ("/", "\\")


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a hub id (sent as a URL path segment), or None."""
    for char in value:
        if unicodedata.category(char).startswith("C"):  # control, format (a BOM), unassigned
            return f"control or invisible character U+{ord(char):04X}"
        if char.isspace():
            return "whitespace inside"
        if char in _PATH_SEPARATORS:
            return "a path separator"
    return None


def _looks_like_path(value: str) -> bool:
    """A value an operator meant as a file or folder (``ids.txt``, ``~/old``, ``archive/``)."""
    separated = any(s in value for s in _PATH_SEPARATORS)
    return separated or value.startswith(("~", ".")) or bool(Path(value).suffix)


def _checked(hub_id: str, where: str) -> str:
    if problem := id_problem(hub_id):
        raise IdsError(f"{where}: {hub_id!r} is not a hub id ({problem}; {ID_FORMS})")
    return hub_id


def ids_from_file(path: Path) -> list[str]:
    """The ids of a file, one per line (``#`` starts a comment; a Notepad BOM or CRLF is fine)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IdsError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    found = [
        _checked(line.strip(), f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not found:
        raise IdsError(f"{path}: no hub ids in it (one a line; {ID_FORMS})")
    return found


def ids_from_args(values: Iterable[str]) -> list[str]:
    """Hub ids from the command line: ids, files of ids (one per line) or FTP archive folders.

    Raises :class:`IdsError` for a value that cannot be a hub id, a path that does not exist and
    an empty ids file: nothing is sent to a hub that the operator did not mean as an id."""
    ids: dict[str, None] = {}
    for value in values:
        path = Path(value)
        if path.is_dir():
            found = ids_from_archive(path)
        elif path.is_file():
            found = ids_from_file(path)
        elif _looks_like_path(value.strip()):
            raise IdsError(f"--ids {value}: no such file or folder")
        else:
            found = [_checked(value.strip(), f"--ids {value!r}")]
        for hub_id in found:
            ids[hub_id] = None
    return list(ids)
