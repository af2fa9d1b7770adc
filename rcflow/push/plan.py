"""Reconciling accounting events with the hub's history: what is owed, in what order, and why not.

For each invoice the updates owed to the hub are the accounting events the hub does not show yet,
in lifecycle order (ANNOTATED → RECEIVED → ACCEPTED → RECOGNISED → PAID; REJECTED final). What a
push cannot fix is a *discrepancy*, listed with its reason and never sent.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from rcflow.hub.models import StateUpdate
from rcflow.hub.states import TERMINAL_STATES, State, parse_state, rank
from rcflow.warehouse import Warehouse

OPTIONAL_STATES = frozenset({State.RECEIVED, State.ACCEPTED})


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


@dataclass
class PushPlan:
    owed: dict[str, list[Update]] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # invoice -> quarantine reason

    @property
    def owed_count(self) -> int:
        return sum(len(v) for v in self.owed.values())

    def rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
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
        for invoice_id, reason in sorted(self.blocked.items()):
            rows.append(
                {
                    "invoice_id": invoice_id,
                    "step": 0,
                    "action": "blocked",
                    "state": "",
                    "date": "",
                    "detail": reason,
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
    query = "select invoice_id, state, event_date, rcf_number, reason_code, reason from ops.accounting_events"
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
    rows = wh.con.execute(
        "select invoice_id, string_agg(distinct stage || ': ' || reason, '; ')"
        " from ops.quarantine where resolved_at is null group by invoice_id"
    ).fetchall()
    return dict(rows)


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
            plan.blocked[invoice_id] = quarantine[invoice_id]
            continue
        owed = _owed_for(invoice_id, rows, view, plan)
        if owed:
            plan.owed[invoice_id] = owed
    return plan


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
        owed.append(Update(invoice_id, update, r["event_date"]))
        if state is State.REJECTED:
            break
    return owed


def plan_from_warehouse(wh: Warehouse) -> PushPlan:
    events = load_events(wh)
    ids = events.get_column("invoice_id").unique().to_list() if events.height else []
    return build_plan(events, load_hub_views(wh, ids), quarantined(wh))
