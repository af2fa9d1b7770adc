"""A simulated accounting system: what an entity's RCF records after an invoice is registered.

Output rows follow the lifecycle ANNOTATED <= RECEIVED <= ACCEPTED <= RECOGNISED <= PAID (by
date), or end in REJECTED (about 3%) with nothing after it. No date precedes the registry
date or follows ``today``. Invoices the hub has already rejected produce no rows.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import polars as pl

from rcflow.connectors.efact.simulator.catalog import RCF_REJECTIONS
from rcflow.connectors.efact.states import State, rank

COLUMNS = ("invoice_id", "state", "date", "rcf_number", "reason_code", "reason")
SCHEMA = {"invoice_id": pl.Utf8, "state": pl.Utf8, "date": pl.Date, "rcf_number": pl.Utf8,
          "reason_code": pl.Utf8, "reason": pl.Utf8}
Event = tuple[State, date, str | None, str | None, str | None]


def _days(rng: random.Random, *spans: tuple[float, int, int]) -> int:
    """Pick a span by weight, then a day count inside it."""
    _weight, low, high = rng.choices(spans, weights=[s[0] for s in spans])[0]
    return rng.randint(low, high)


def _lifecycle(invoice_id: str, registry: date, amount: float, hub_state: State,
               rng: random.Random) -> list[Event]:
    """Events for one invoice; states the hub already holds are always present."""
    forced = rank(hub_state) if hub_state is not State.REJECTED else 0
    year = registry.year
    rcf = f"RCF-{year}-{int(''.join(c for c in invoice_id if c.isdigit()) or 0) % 10**6:06d}"
    events: list[Event] = []
    day = registry
    if forced < rank(State.ANNOTATED) and rng.random() < 0.03:
        code, reason = rng.choice(RCF_REJECTIONS)
        if rng.random() < 0.5:
            day += timedelta(days=_days(rng, (0.8, 0, 3), (0.2, 4, 10)))
            events.append((State.ANNOTATED, day, rcf, None, None))
        day += timedelta(days=rng.randint(1, 15))
        events.append((State.REJECTED, day, None, code, reason))
        return events
    day += timedelta(days=_days(rng, (0.8, 0, 4), (0.15, 5, 15), (0.05, 16, 40)))
    events.append((State.ANNOTATED, day, rcf, None, None))
    accepted = day  # the start of the payment period when no ACCEPTED is recorded
    for state, share, spans in (
        (State.RECEIVED, 0.75, ((0.9, 0, 7), (0.1, 8, 20))),
        (State.ACCEPTED, 0.7, ((0.85, 1, 25), (0.15, 26, 45))),
    ):
        if state is hub_state or rng.random() < share:  # optional states stay optional
            day += timedelta(days=_days(rng, *spans))
            events.append((state, day, None, None, None))
            accepted = day if state is State.ACCEPTED else accepted
    if rank(State.RECOGNISED) > forced and rng.random() < 0.07:
        return events  # never recognised
    day += timedelta(days=_days(rng, (0.88, 0, 10), (0.12, 30, 90)))
    events.append((State.RECOGNISED, day, None, None, None))
    if rank(State.PAID) <= forced or (amount > 0 and rng.random() < 0.92):
        lag = min(150, max(3, int(rng.gauss(28, 16))))
        events.append((State.PAID, max(day, accepted + timedelta(days=lag)), None, None, None))
    return events


def simulate_accounting_events(invoices: pl.DataFrame, seed: int, today: date) -> pl.DataFrame:
    """Accounting events for ``invoices`` (invoice_id, registry_date, amount, hub_state).

    Returns columns ``invoice_id, state, date, rcf_number, reason_code, reason``; deterministic
    for a seed. Credit notes (amount <= 0) are never paid.
    """
    out: dict[str, list[object]] = {c: [] for c in COLUMNS}
    columns = invoices.select("invoice_id", "registry_date", "amount", "hub_state")
    for invoice_id, registry, amount, hub_state in columns.iter_rows():
        if registry is None or hub_state is None:
            continue
        state = State(str(hub_state).strip())
        if state in (State.SENT, State.REJECTED):
            continue
        if isinstance(registry, datetime):
            registry = registry.date()
        rng = random.Random(f"{seed}/accounting/{invoice_id}")
        for event_state, day, rcf, code, reason in _lifecycle(
            str(invoice_id), registry, float(amount or 0), state, rng,
        ):
            if day > today:
                if rank(event_state) > rank(state):
                    break
                day = today  # the hub already holds this state: it happened by now
            out["invoice_id"].append(str(invoice_id))
            out["state"].append(event_state.value)
            out["date"].append(day)
            out["rcf_number"].append(rcf)
            out["reason_code"].append(code)
            out["reason"].append(reason)
    return pl.DataFrame(out, schema=SCHEMA)
