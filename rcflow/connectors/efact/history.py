"""An invoice's state history as eFACT answers it, and as ``raw.invoice_states`` rows.

Shared by the sync (``rcflow.ingest``) and the push (its pre-flight and its re-reads), so the
hub's history is read and stored one way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from rcflow.connectors.efact.client import HubClient
from rcflow.connectors.efact.models import StateEntry, StateHistory
from rcflow.connectors.efact.states import parse_state


async def fetch_history(hub: HubClient, invoice_id: str) -> StateHistory:
    """The state history; a 2003 (no history yet) is an empty history (``EfactApi.history``)."""
    return await hub.history(invoice_id)


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


def state_rows(
    invoice_id: str,
    states: Sequence[StateEntry],
    fetched_at: datetime,
    raws: Sequence[str | None] | None = None,
) -> list[dict]:
    """``raw.invoice_states`` rows (without source_hub) for a list of history entries."""
    raws = raws if raws is not None else [None] * len(states)
    return [
        {
            "invoice_id": invoice_id,
            "seq": seq,
            "state": state_name(entry.estat),
            "state_code": entry.codiEstat,
            "state_at": entry.dataEstat,
            "registry_number": entry.numeroRegistre,
            "registry_at": entry.dataRegistre,
            "rcf_number": entry.numeroRegistreRCF,
            "reject_code": entry.codiMotiuRebuig,
            "reject_reason": entry.descripcioMotiuRebuig,
            "payment_date": entry.dataPagament,
            "raw_json": raw or entry.model_dump_json(exclude_none=True),
            "fetched_at": fetched_at,
        }
        for seq, (entry, raw) in enumerate(zip(states, raws, strict=True), start=1)
    ]


def history_rows(invoice_id: str, history: StateHistory, fetched_at: datetime) -> list[dict]:
    """The rows of one ``/estats`` answer, each with its entry's JSON as received."""
    raws = raw_items(history.raw_json, "estats", len(history.estats))
    return state_rows(invoice_id, history.estats, fetched_at, raws)


def last_states(histories: Sequence[tuple[str, StateHistory]]) -> list[dict]:
    """(invoice_id, hub_state, hub_state_at) of each non-empty history's last entry."""
    return [
        {"invoice_id": i, "hub_state": state_name(h.estats[-1].estat), "hub_state_at": h.estats[-1].dataEstat}
        for i, h in histories
        if h.estats
    ]

