"""An invoice's state history as eFACT answers it, turned into the core's ``StateRecord``s.

Shared by the bundle, the refresh and the push's history reads, so the hub's history is read
and translated one way: each entry's JSON exactly as the hub sent it, its state as a
``rcflow.lifecycle`` name (or the hub's own, upper-cased, when unknown).
"""

from __future__ import annotations

import json

from rcflow.connectors.base import StateRecord
from rcflow.connectors.efact.models import StateEntry, StateHistory
from rcflow.connectors.efact.states import parse_state


def raw_items(raw_json: str | None, key: str, count: int) -> list[str | None]:
    """Each element of the answer's ``key`` list exactly as the hub sent it (values untouched)."""
    if raw_json:
        try:
            items = json.loads(raw_json)
            found = next((v for k, v in items.items() if k.strip() == key), None)
            if isinstance(found, list) and len(found) == count:
                return [json.dumps(item, ensure_ascii=False) for item in found]
        except (ValueError, AttributeError):
            pass
    return [None] * count


def state_name(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return parse_state(value).value
    except ValueError:
        return value.strip().upper()


def state_record(entry: StateEntry, raw: str | None = None) -> StateRecord:
    return StateRecord(
        state=state_name(entry.estat) or "",
        raw_json=raw or entry.model_dump_json(exclude_none=True),
        state_code=entry.codiEstat,
        state_at=entry.dataEstat,
        registry_number=entry.numeroRegistre,
        registry_at=entry.dataRegistre,
        rcf_number=entry.numeroRegistreRCF,
        reject_code=entry.codiMotiuRebuig,
        reject_reason=entry.descripcioMotiuRebuig,
        payment_date=entry.dataPagament,
    )


def state_records(history: StateHistory) -> list[StateRecord]:
    """The records of one ``/estats`` answer, each with its entry's JSON as received."""
    raws = raw_items(history.raw_json, "estats", len(history.estats))
    return [state_record(entry, raw) for entry, raw in zip(history.estats, raws, strict=True)]
