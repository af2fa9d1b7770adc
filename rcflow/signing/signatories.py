"""Who signs the legal documents: a small YAML file the entity keeps (``RCFLOW_SIGNATORIES``).

```yaml
- role: Interventor/a          # printed above the signature box
  name: Marta Puig Soler
  email: intervencio@ajuntament.cat
  phone: "+34600111222"        # needed for an advanced (SMS) signature
  order: 1                     # who signs first
- role: Tresorer/a
  name: Jordi Vila
  email: tresoreria@ajuntament.cat
  order: 2
```
"""

from __future__ import annotations

from pathlib import Path

import yaml

from rcflow.signing.signer import Signatory, SigningInputError


class SignatoriesError(ValueError):
    """The signatories file is missing or wrong; the message names the file and the entry."""


def load_signatories(path: Path) -> list[tuple[str, Signatory]]:
    """(role, signatory) pairs from ``path``, in signing order."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SignatoriesError(f"{path}: no such file (RCFLOW_SIGNATORIES names who signs)") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SignatoriesError(f"{path}: not a YAML list of signatories ({type(exc).__name__})") from None
    if not isinstance(entries, list) or not entries:
        raise SignatoriesError(f"{path}: expected a list of signatories (role, name, email)")
    found = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not {"role", "name", "email"} <= entry.keys():
            raise SignatoriesError(f"{path}: entry {number} needs role, name and email")
        try:
            person = Signatory(
                name=str(entry["name"]),
                email=str(entry["email"]),
                phone=str(entry.get("phone") or ""),
                order=int(entry.get("order", number)),
            )
        except (SigningInputError, ValueError) as exc:
            raise SignatoriesError(f"{path}: entry {number}: {exc}") from None
        found.append((str(entry["role"]), person))
    return sorted(found, key=lambda pair: pair[1].order)
