"""Reading hub ids out of an old eFACT FTP mailbox archive, for backfill.

Two sources, per ``shared/domain/efact.md``: file names ``issuer@receiver@reference@hubid[.ext]``
and DeliveryFeedback status XMLs (``DeliveryFeedback/StatusFeedback/HubFeedback/HubId``).
"""

from __future__ import annotations

import re
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


def ids_from_args(values: Iterable[str]) -> list[str]:
    """Hub ids from the command line: ids, files of ids (one per line) or FTP archive folders."""
    ids: dict[str, None] = {}
    for value in values:
        path = Path(value)
        if path.is_dir():
            found = ids_from_archive(path)
        elif path.is_file():
            found = [
                line.strip()
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        else:
            found = [value.strip()]
        for hub_id in found:
            ids[hub_id] = None
    return list(ids)
