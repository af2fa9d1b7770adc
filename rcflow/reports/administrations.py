"""Which entities form one administration: the user's declaration, for the global PMP.

RD 635/2014 computes a global PMP per administration (the parent entity and its dependent
entities). The warehouse may hold unrelated administrations (a Diputació, a service company
serving many town halls), so the user declares them in a YAML file::

    administrations:
      - name: Ajuntament de Vilanova
        parent: P0800000A
        dependents: [Q0800001B, A08000002]

Each declared administration gets its global PMP; an entity in no declaration is reported
alone. With no file the warehouse is one administration (and the report says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_NIF = re.compile(r"^[A-Z0-9]{8,12}$")


class AdministrationsFileError(ValueError):
    """The declaration cannot be read or is invalid (the message names the file)."""


@dataclass(frozen=True)
class Administration:
    name: str
    parent: str
    dependents: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return (self.parent, *self.dependents)

    def to_var(self) -> dict[str, Any]:
        """As the dbt var ``administrations`` takes it (the parent NIF is the id)."""
        return {"id": self.parent, "name": self.name, "members": list(self.members)}


def _nif(value: object, where: str) -> str:
    text = str(value or "").strip().upper()
    if not _NIF.match(text):
        raise ValueError(f"{where}: {value!r} is not a NIF")
    return text


def load_administrations(path: Path) -> list[Administration]:
    """Read and validate ``path``; raises :class:`AdministrationsFileError`."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AdministrationsFileError(f"{path}: cannot read it ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise AdministrationsFileError(f"{path}{line}: not valid YAML") from None
    if data is not None and not isinstance(data, dict):
        raise AdministrationsFileError(f"{path}: expected a mapping with 'administrations:'")
    entries = (data or {}).get("administrations") or []
    if not isinstance(entries, list):
        raise AdministrationsFileError(f"{path}: 'administrations' must be a list")
    result: list[Administration] = []
    owner: dict[str, str] = {}
    try:
        for number, entry in enumerate(entries, start=1):
            where = f"administration {number}"
            if not isinstance(entry, dict):
                raise ValueError(f"{where} must have name, parent and dependents")
            name = str(entry.get("name") or "").strip()
            if not name:
                raise ValueError(f"{where} has no name")
            where = f"administration {number} ({name})"
            parent = _nif(entry.get("parent"), f"{where} parent")
            raw_dependents = entry.get("dependents") or []
            if not isinstance(raw_dependents, list):
                raise ValueError(f"{where}: dependents must be a list of NIFs")
            dependents = tuple(_nif(d, f"{where} dependent") for d in raw_dependents)
            for nif in (parent, *dependents):
                if nif in owner:
                    raise ValueError(f"{where}: {nif} is already in {owner[nif]}")
                owner[nif] = where
            result.append(Administration(name, parent, dependents))
    except ValueError as exc:
        raise AdministrationsFileError(f"{path}: {exc}") from None
    return result
