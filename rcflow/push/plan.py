"""Reconciling accounting events with the hub's history: what is owed, in what order, and why not.

For each invoice the updates owed to the hub are the accounting events the hub does not show yet,
in lifecycle order (ANNOTATED → RECEIVED → ACCEPTED → RECOGNISED → PAID; REJECTED final). What a
push cannot fix is a *discrepancy*, listed with its reason and never sent.

What is owed but held back is a *hold*, named with its reason:

* ``quarantine``: an open finding holds the invoice (``ops.quarantine_holds``: not released by an
  operator, not a quality finding on an invoice the accounting system REJECTED);
* ``refused``: the hub refused (4xx) this very payload before; it is not sent again until the
  data changes (another payload for the same state) or an operator asks for a retry.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import polars as pl

from rcflow.connectors.efact.models import StateUpdate
from rcflow.connectors.efact.states import TERMINAL_STATES, State, parse_state, rank
from rcflow.warehouse import Warehouse
from rcflow.warehouse.quarantine import holding_reasons

OPTIONAL_STATES = frozenset({State.RECEIVED, State.ACCEPTED})
# 4xx answers about the request, not its data (credentials, time-outs, rate limits): no hold.
NOT_ABOUT_THE_DATA = frozenset({401, 403, 407, 408, 425, 429})


@dataclass(frozen=True)
class Update:
    invoice_id: str
    update: StateUpdate
    event_date: date

    @property
    def state(self) -> State:
        return self.update.state


@dataclass(frozen=True)
class Discrepancy:
    invoice_id: str
    state: str
    reason: str
    blocking: bool = True  # False: noted (e.g. an optional state the hub has moved past)


@dataclass(frozen=True)
class Hold:
    """Updates owed to the hub but held back, and why."""

    invoice_id: str
    states: tuple[str, ...]  # what is held, in lifecycle order
    kind: str  # quarantine | refused
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"invoice_id": self.invoice_id, "states": list(self.states), "kind": self.kind,
                "reason": self.reason}  # fmt: skip


@dataclass
class PushPlan:
    owed: dict[str, list[Update]] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    @property
    def blocked(self) -> dict[str, str]:
        """Invoice → why something it owes is held back (quarantine or an unchanged refusal)."""
        out: dict[str, list[str]] = defaultdict(list)
        for hold in self.holds:
            out[hold.invoice_id].append(hold.reason)
        return {invoice_id: "; ".join(reasons) for invoice_id, reasons in out.items()}

    @property
    def owed_count(self) -> int:
        return sum(len(v) for v in self.owed.values())

    @property
    def needs_attention(self) -> bool:
        """Something is held back or cannot be pushed (the operator has to act)."""
        return bool(self.holds) or any(d.blocking for d in self.discrepancies)

    def rows(self) -> list[dict[str, object]]:
        """Every line of the plan: what is held back and what cannot be pushed first, then the updates."""
        rows: list[dict[str, object]] = []
        for hold in sorted(self.holds, key=lambda h: (h.kind, h.invoice_id)):
            rows.append(
                {
                    "invoice_id": hold.invoice_id,
                    "step": 0,
                    "action": "blocked" if hold.kind == "quarantine" else "refused",
                    "state": ", ".join(hold.states),
                    "date": "",
                    "detail": hold.reason,
                }
            )
        for d in self.discrepancies:
            rows.append(
                {
                    "invoice_id": d.invoice_id,
                    "step": 0,
                    "action": "discrepancy" if d.blocking else "skipped",
                    "state": d.state,
                    "date": "",
                    "detail": d.reason,
                }
            )
        for invoice_id, updates in sorted(self.owed.items()):
            for step, u in enumerate(updates, start=1):
                rows.append(
                    {
                        "invoice_id": invoice_id,
                        "step": step,
                        "action": "push",
                        "state": u.state.value,
                        "date": u.event_date.isoformat(),
                        "detail": _describe(u.update),
                    }
                )
        return rows


def _describe(update: StateUpdate) -> str:
    body = update.to_json()
    body.pop("estat")
    return ", ".join(f"{k}={v}" for k, v in body.items())


@dataclass(frozen=True)
class HubView:
    """What the warehouse knows of an invoice on the hub."""

    states: frozenset[State]
    current: State | None
    registry_date: date | None
    payment_date: date | None


def load_events(wh: Warehouse, invoice_ids: list[str] | None = None) -> pl.DataFrame:
    """Accounting events, each with the hub's refusal of its (invoice, state), if any."""
    query = (
        "select e.invoice_id, e.state, e.event_date, e.rcf_number, e.reason_code, e.reason,"
        " o.payload::varchar as refused_payload, o.http_status as refused_status,"
        " o.error_code as refused_code, o.error_message as refused_message, o.updated_at as refused_at"
        " from ops.accounting_events e left join ops.push_outbox o"
        " on o.invoice_id = e.invoice_id and o.state = e.state and o.status = 'refused'"
    )
    frame = pl.from_arrow(wh.arrow(query))
    if invoice_ids is not None:
        frame = frame.filter(pl.col("invoice_id").is_in(invoice_ids))
    return frame


def load_hub_views(wh: Warehouse, invoice_ids: list[str]) -> dict[str, HubView]:
    """Hub-side facts per invoice from raw.invoices and raw.invoice_states (bulk)."""
    ids = pl.DataFrame({"invoice_id": invoice_ids}, schema={"invoice_id": pl.String}).to_arrow()
    with wh.registered("_rcflow_plan_ids", ids):
        invoices = wh.fetch(
            "select i.invoice_id, i.hub_state, i.payment_date,"
            " cast(timezone('Europe/Madrid', i.registry_at) as date) as registry_date,"
            " list(s.state order by s.seq) filter (where s.state is not null) as states,"
            " max(s.payment_date) filter (where s.state = 'PAID') as paid_on"
            " from raw.invoices i join _rcflow_plan_ids p using (invoice_id)"
            " left join raw.invoice_states s using (invoice_id)"
            " group by all"
        )
    views = {}
    for invoice_id, hub_state, payment_date, registry_date, states, paid_on in invoices:
        parsed = {_safe_state(s) for s in (states or [])} - {None}
        current = _safe_state(hub_state)
        if current is not None:
            parsed.add(current)
        if current is None and parsed:
            current = max(parsed, key=rank)  # type: ignore[arg-type]
        views[invoice_id] = HubView(
            frozenset(parsed),  # type: ignore[arg-type]
            current,
            registry_date,
            paid_on or payment_date,
        )
    return views


def _safe_state(value: str | None) -> State | None:
    if not value:
        return None
    try:
        return parse_state(value)
    except ValueError:
        return None


def quarantined(wh: Warehouse) -> dict[str, str]:
    """Invoice → the open findings that hold it back (released and passed findings do not)."""
    return holding_reasons(wh.con)


def build_plan(events: pl.DataFrame, views: dict[str, HubView], quarantine: dict[str, str]) -> PushPlan:
    plan = PushPlan()
    by_invoice: dict[str, list[dict]] = defaultdict(list)
    for row in events.iter_rows(named=True):
        by_invoice[row["invoice_id"]].append(row)
    for invoice_id, rows in sorted(by_invoice.items()):
        view = views.get(invoice_id)
        if view is None:
            plan.discrepancies.append(Discrepancy(invoice_id, "", "unknown invoice: not in the warehouse"))
            continue
        if invoice_id in quarantine:
            held = _not_on_hub(rows, view)
            if held:
                plan.holds.append(Hold(invoice_id, held, "quarantine", quarantine[invoice_id]))
            continue
        owed = _owed_for(invoice_id, rows, view, plan)
        if owed:
            plan.owed[invoice_id] = owed
    return plan


def _not_on_hub(rows: list[dict], view: HubView) -> tuple[str, ...]:
    """The accounting states the hub does not show, in lifecycle order."""
    states = {State(r["state"]) for r in rows} - view.states
    return tuple(s.value for s in sorted(states, key=rank))


def _refusal(row: dict, update: StateUpdate) -> str | None:
    """Why this exact payload was refused by the hub before (None: not refused, or data changed)."""
    refused = row.get("refused_payload")
    status, code = row.get("refused_status"), row.get("refused_code")
    if not refused or status in NOT_ABOUT_THE_DATA or json.loads(refused) != update.to_json():
        return None
    at = row.get("refused_at")
    when = f" on {at:%Y-%m-%d}" if isinstance(at, datetime) else ""
    answer = f"HTTP {status}" + (f", code {code}" if code else "")
    return (
        f"refused by the hub{when} ({answer}): {row.get('refused_message') or 'no reason given'};"
        " not re-sent until the data changes"
    )


def _owed_for(invoice_id: str, rows: list[dict], view: HubView, plan: PushPlan) -> list[Update]:
    events = sorted(rows, key=lambda r: (rank(State(r["state"])), r["event_date"]))
    accounting_states = {State(r["state"]) for r in events}
    note = plan.discrepancies.append

    if State.REJECTED in accounting_states and State.PAID in accounting_states:
        note(Discrepancy(invoice_id, "REJECTED", "accounting has both PAID and REJECTED"))
        return []
    if view.current in TERMINAL_STATES:
        for r in events:
            state = State(r["state"])
            if state in view.states:
                if state is State.PAID and view.payment_date and r["event_date"] != view.payment_date:
                    note(
                        Discrepancy(
                            invoice_id,
                            "PAID",
                            f"hub shows PAID on {view.payment_date}, accounting on {r['event_date']}",
                        )
                    )
                continue
            if state in TERMINAL_STATES or rank(state) > rank(view.current):  # type: ignore[arg-type]
                note(
                    Discrepancy(
                        invoice_id,
                        state.value,
                        f"hub shows {view.current.value} (final) but accounting has {state.value}",  # type: ignore[union-attr]
                    )
                )
            else:
                note(
                    Discrepancy(
                        invoice_id,
                        state.value,
                        f"hub is already {view.current.value}; {state.value} can no longer be sent",  # type: ignore[union-attr]
                        blocking=state not in OPTIONAL_STATES,
                    )
                )
        return []

    owed: list[Update] = []
    current_rank = rank(view.current) if view.current else 0
    for r in events:
        state = State(r["state"])
        if state in view.states:
            continue
        if state is State.PAID and view.registry_date and r["event_date"] < view.registry_date:
            note(
                Discrepancy(
                    invoice_id,
                    "PAID",
                    f"payment {r['event_date']} is before the registry date {view.registry_date}",
                )
            )
            break
        if state is not State.REJECTED and rank(state) < current_rank:
            note(
                Discrepancy(
                    invoice_id,
                    state.value,
                    f"hub is already {view.current.value}; {state.value} can no longer be sent",  # type: ignore[union-attr]
                    blocking=state not in OPTIONAL_STATES,
                )
            )
            continue
        update = StateUpdate.build(
            state,
            rcf_number=r["rcf_number"] if state is State.ANNOTATED else None,
            reason_code=r["reason_code"] if state is State.REJECTED else None,
            reason=r["reason"] if state is State.REJECTED else None,
            payment_date=r["event_date"] if state is State.PAID else None,
        )
        refusal = _refusal(r, update)
        if refusal:
            held = tuple(s for s in _not_on_hub(events, view) if rank(State(s)) >= rank(state))
            plan.holds.append(Hold(invoice_id, held, "refused", refusal))
            break  # what follows it in the lifecycle waits too
        owed.append(Update(invoice_id, update, r["event_date"]))
        if state is State.REJECTED:
            break
    return owed


def plan_from_warehouse(wh: Warehouse) -> PushPlan:
    events = load_events(wh)
    ids = events.get_column("invoice_id").unique().to_list() if events.height else []
    return build_plan(events, load_hub_views(wh, ids), quarantined(wh))
