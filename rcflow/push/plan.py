"""The push plan: what is owed, in what order, and why not, grouped for sending.

What is owed is decided in the warehouse, by the view ``ops.owed_updates`` (migration 012), the
one definition ``rcflow status`` and the reports read too; this module only orders and groups its
rows. For each invoice the updates owed to the hub are the accounting events the hub does not
show yet, in lifecycle order (ANNOTATED → RECEIVED → ACCEPTED → RECOGNISED → PAID; REJECTED
final). What a push cannot fix is a *discrepancy*, listed with its reason and never sent.

What is owed but held back is a *hold*, named with its reason:

* ``quarantine``: an open finding holds the invoice (``ops.quarantine_holds``: not released by an
  operator, not a quality finding on an invoice the accounting system REJECTED);
* ``refused``: the hub refused (4xx) this very payload before; it is not sent again until the
  data changes (another payload for the same state) or an operator asks for a retry.

An update is a hub-neutral ``StatePush``; its connector checks it against its hub's rules. An
owed row lacking what its state needs (ANNOTATED without RCF number, REJECTED without reason) is
a blocking discrepancy here, never sent. Plans are per hub (``hub``: the invoices it holds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rcflow.connectors.base import StatePush
from rcflow.lifecycle import State
from rcflow.warehouse import Warehouse
from rcflow.warehouse.owed import owed_rows


@dataclass(frozen=True)
class Update:
    invoice_id: str
    push: StatePush
    event_date: date

    @property
    def state(self) -> State:
        return self.push.state


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
                        "detail": _describe(u.push),
                    }
                )
        return rows


def _describe(update: StatePush) -> str:
    body = update.payload()
    body.pop("estat")
    return ", ".join(f"{k}={v}" for k, v in body.items())


def plan_from_warehouse(
    wh: Warehouse, invoice_ids: Sequence[str] | None = None, *, hub: str | None = None
) -> PushPlan:
    """The plan from ``ops.owed_updates`` (for ``invoice_ids`` only, and only the invoices the
    hub ``hub`` holds, when given)."""
    with wh.reading() as con:
        rows = owed_rows(con, invoice_ids, hub=hub)
    return build_plan(rows.to_pylist())


def build_plan(rows: Iterable[dict[str, Any]]) -> PushPlan:
    """Group the view's rows into a plan: updates per invoice in lifecycle order, holds, discrepancies."""
    plan = PushPlan()
    held: dict[tuple[str, str], tuple[str, list[str]]] = {}
    unknown: set[str] = set()
    for r in sorted(rows, key=lambda r: (r["invoice_id"], r["state_rank"])):
        invoice_id, state = r["invoice_id"], r["state"]
        if r["verdict"] == "unknown_invoice":
            if invoice_id not in unknown:  # one line per invoice, whatever it owes
                unknown.add(invoice_id)
                plan.discrepancies.append(Discrepancy(invoice_id, "", r["detail"]))
            continue
        if r["is_discrepancy"]:
            plan.discrepancies.append(Discrepancy(invoice_id, state, r["detail"], blocking=r["is_blocking"]))
        if r["hold_kind"]:
            held.setdefault((invoice_id, r["hold_kind"]), (r["hold_reason"], []))[1].append(state)
        elif r["is_due"]:
            push = state_push(r)
            missing = incomplete(push)
            if missing:
                plan.discrepancies.append(Discrepancy(invoice_id, state, missing))
            else:
                plan.owed.setdefault(invoice_id, []).append(Update(invoice_id, push, r["event_date"]))
    plan.holds = [Hold(i, tuple(states), kind, reason) for (i, kind), (reason, states) in held.items()]
    return plan


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def state_push(row: dict[str, Any]) -> StatePush:
    """The update one owed row asks for, each field only with the state that carries it and
    trimmed (its ``payload()`` is the one ``ops.owed_updates`` compares with a refused one)."""
    state = State(row["state"])
    return StatePush(
        state,
        rcf_number=_text(row["rcf_number"]) if state is State.ANNOTATED else None,
        reason_code=_text(row["reason_code"]) if state is State.REJECTED else None,
        reason=_text(row["reason"]) if state is State.REJECTED else None,
        payment_date=row["event_date"] if state is State.PAID else None,
    )


def incomplete(push: StatePush) -> str | None:
    """Why no hub could take this update (what its state needs is missing), or None."""
    if push.state is State.ANNOTATED and not push.rcf_number:
        return "ANNOTATED needs an RCF registry number; accounting has none"
    if push.state is State.REJECTED and not push.reason:
        return "REJECTED needs a rejection reason; accounting has none"
    if push.state is State.PAID and not push.payment_date:
        return "PAID needs a payment date; accounting has none"
    return None
