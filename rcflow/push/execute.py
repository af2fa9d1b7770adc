"""Executing a push plan: pre-flight the hub's history, then PATCH in waves, in lifecycle order.

Never twice, never out of order:

* before any PATCH the invoice's ``/estats`` is re-read, so a state the hub already shows (set
  elsewhere, or by an earlier run whose answer was lost) is not sent again;
* an invoice's next update is only sent after the previous one succeeded (waves);
* the intent is recorded before each wave and the outcome after it; an interrupted run leaves
  'pending' entries that the next run resolves by reading ``/estats`` before deciding.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rcflow.connectors.efact import HubClient, HubError, HubStatusError
from rcflow.connectors.efact.history import fetch_history, history_rows, last_states
from rcflow.connectors.efact.models import StateHistory
from rcflow.connectors.efact.settle import settle
from rcflow.push.plan import PushPlan, Update, plan_from_warehouse
from rcflow.warehouse import Warehouse
from rcflow.warehouse.outbox import Call, Intent, Outcome, record_intents, record_outcomes, resolve_confirmed
from rcflow.warehouse.raw import acknowledged_rows, rows_table, store_histories

AMBIGUOUS_RETRIES = 3
AMBIGUOUS_WAIT = 0.5


@dataclass
class PushSummary:
    run_id: str
    owed: int = 0
    pushed: int = 0
    confirmed_already_on_hub: int = 0
    refused: list[dict[str, object]] = field(default_factory=list)
    failed: list[dict[str, object]] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    discrepancies: list[dict[str, object]] = field(default_factory=list)
    pushed_by_state: dict[str, int] = field(default_factory=dict)
    left_pending: int = 0  # intents of this run with no recorded answer (the next run asks the hub)
    requests: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


class Pusher:
    def __init__(self, hub: HubClient, wh: Warehouse, summary: PushSummary):
        self.hub, self.wh, self.summary = hub, wh, summary
        self.unreachable: set[str] = set()

    async def run(self, *, batch: int = 500) -> None:
        first = plan_from_warehouse(self.wh)
        self.summary.blocked = dict(first.blocked)
        candidates = sorted(first.owed)
        for start in range(0, len(candidates), batch):
            chunk = candidates[start : start + batch]
            # Pre-flight: the hub's current history decides, not our possibly stale copy.
            await self._refresh(chunk, preflight=True)
            await self._push_plan(plan_from_warehouse(self.wh, chunk))
        final = plan_from_warehouse(self.wh)
        self.summary.discrepancies = [asdict(d) for d in final.discrepancies]

    async def _refresh(self, invoice_ids: list[str], *, preflight: bool) -> None:
        """Re-read the hub's history of these invoices (one GET each) into the warehouse.

        Before pushing, an invoice whose history cannot be read is not pushed this run; after
        pushing, a failed re-read only means the warehouse catches up on the next run.
        """
        done, failed = await settle(invoice_ids, self._history)
        if preflight:
            for invoice_id, error in failed:
                self.unreachable.add(invoice_id)
                self.summary.failed.append({"invoice_id": invoice_id, "reason": f"pre-flight: {error}"})
        histories = [result for _, result in done]
        now = datetime.now(UTC)
        states = [row for i, history in histories for row in history_rows(i, history, now)]
        store_histories(
            self.wh,
            [i for i, _ in histories],
            states=rows_table("raw.invoice_states", states),
            last=acknowledged_rows(last_states(histories)),
            now=now,
        )
        resolve_confirmed(self.wh)

    async def _history(self, invoice_id: str) -> tuple[str, StateHistory]:
        return invoice_id, await fetch_history(self.hub, invoice_id)

    async def _push_plan(self, plan: PushPlan) -> None:
        queues = {i: list(u) for i, u in plan.owed.items() if i not in self.unreachable}
        self.summary.owed += sum(len(u) for u in queues.values())
        while queues:
            wave = [updates.pop(0) for updates in queues.values()]
            intents = [Intent(u.invoice_id, u.state.value, u.update.to_json()) for u in wave]
            record_intents(self.wh, intents, self.summary.run_id)
            outcomes = await asyncio.gather(*(self._push_one(u) for u in wave))
            record_outcomes(self.wh, outcomes, self.summary.run_id)
            done_ok = set()
            for outcome in outcomes:
                self._tally(outcome)
                if outcome.status in {"sent", "confirmed"}:
                    done_ok.add(outcome.invoice_id)
            queues = {i: u for i, u in queues.items() if u and i in done_ok}
        # Keep the warehouse's copy of the hub history current for what was pushed.
        await self._refresh(sorted(plan.owed), preflight=False)

    def _tally(self, outcome: Outcome) -> None:
        s = self.summary
        if outcome.status == "sent":
            s.pushed += 1
            s.pushed_by_state[outcome.state] = s.pushed_by_state.get(outcome.state, 0) + 1
        elif outcome.status == "confirmed":
            s.confirmed_already_on_hub += 1
        elif outcome.status == "refused":
            s.refused.append(
                {
                    "invoice_id": outcome.invoice_id,
                    "state": outcome.state,
                    "code": outcome.last.error_code,
                    "reason": outcome.last.error_message,
                }
            )
        else:
            s.failed.append(
                {
                    "invoice_id": outcome.invoice_id,
                    "state": outcome.state,
                    "reason": outcome.last.error_message,
                }
            )

    async def _push_one(self, update: Update) -> Outcome:
        payload = update.update.to_json()
        base = {"invoice_id": update.invoice_id, "state": update.state.value, "payload": payload}
        calls: list[Call] = []
        for attempt in range(AMBIGUOUS_RETRIES + 1):
            try:
                await self.hub.update_state(update.invoice_id, update.update)
                calls.append(Call(200, None, None))
                return Outcome(**base, status="sent", calls=tuple(calls))
            except HubStatusError as exc:
                code = None if exc.code is None else str(exc.code)
                calls.append(Call(exc.status, code, str(exc)))
                if exc.status < 500:
                    return Outcome(**base, status="refused", calls=tuple(calls))
            except HubError as exc:
                calls.append(Call(None, None, str(exc)))
            # Ambiguous (5xx or no answer): did it apply? Ask the hub before trying again.
            try:
                history = await fetch_history(self.hub, update.invoice_id)
            except HubError:
                history = None
            if history is not None and _shows(history, update):
                return Outcome(**base, status="confirmed", calls=tuple(calls))
            if attempt < AMBIGUOUS_RETRIES:
                await asyncio.sleep(AMBIGUOUS_WAIT * (2**attempt))
        return Outcome(**base, status="failed", calls=tuple(calls))


def _shows(history: StateHistory, update: Update) -> bool:
    return any(entry.state is update.state for entry in history.estats)


def left_pending(wh: Warehouse, run_id: str) -> int:
    """This run's outbox intents still without a recorded outcome (an interrupted wave)."""
    return wh.fetch(
        "select count(*) from ops.push_outbox where run_id = ? and status = 'pending'", [run_id]
    )[0][0]


async def push(
    hub: HubClient, wh: Warehouse, run_id: str, *, summary: PushSummary | None = None
) -> PushSummary:
    """Execute the plan, filling ``summary`` as it goes (so an interrupted run's caller knows
    what it did)."""
    summary = summary or PushSummary(run_id=run_id)
    started = time.monotonic()
    try:
        await Pusher(hub, wh, summary).run()
    finally:
        summary.requests = hub.stats.requests
        summary.seconds = round(time.monotonic() - started, 3)
    return summary
