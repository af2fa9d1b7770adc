"""Executing a push plan against one hub (its connector): pre-flight the hub's history, then
send in waves, in lifecycle order.

Never twice, never out of order:

* before any update the invoice's history is re-read (``connector.history``), so a state the hub
  already shows (set elsewhere, or by an earlier run whose answer was lost) is not sent again;
* an invoice's next update is only sent after the previous one succeeded (waves, each one
  ``connector.push_states`` call);
* the intent is recorded before each wave and the outcome after it; an interrupted run leaves
  'pending' entries that the next run resolves by reading the history before deciding;
* an ``uncertain`` answer (5xx, no answer) is resolved by re-reading the history, then re-sent
  only if the hub does not show it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rcflow.connectors.base import Connector, PushResult, StateRecord
from rcflow.push.plan import PushPlan, Update, plan_from_warehouse
from rcflow.warehouse import Warehouse
from rcflow.warehouse.outbox import Call, Intent, Outcome, record_intents, record_outcomes, resolve_confirmed
from rcflow.warehouse.raw import acknowledged_rows, rows_table, state_rows, store_histories

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
    """One push run against one hub: only the invoices that hub holds are planned."""

    def __init__(self, connector: Connector, wh: Warehouse, summary: PushSummary):
        self.hub, self.wh, self.summary = connector, wh, summary
        self.unreachable: set[str] = set()

    def _plan(self, invoice_ids: list[str] | None = None) -> PushPlan:
        return plan_from_warehouse(self.wh, invoice_ids, hub=self.hub.source)

    async def run(self, *, batch: int = 500) -> None:
        first = self._plan()
        self.summary.blocked = dict(first.blocked)
        candidates = sorted(first.owed)
        for start in range(0, len(candidates), batch):
            chunk = candidates[start : start + batch]
            # Pre-flight: the hub's current history decides, not our possibly stale copy.
            await self._refresh(chunk, preflight=True)
            await self._push_plan(self._plan(chunk))
        final = self._plan()
        self.summary.discrepancies = [asdict(d) for d in final.discrepancies]

    async def _refresh(self, invoice_ids: list[str], *, preflight: bool) -> None:
        """Re-read the hub's history of these invoices (one read each) into the warehouse.

        Before pushing, an invoice whose history cannot be read is not pushed this run; after
        pushing, a failed re-read only means the warehouse catches up on the next run.
        """
        results = await asyncio.gather(*(self.hub.history(i) for i in invoice_ids), return_exceptions=True)
        histories: list[tuple[str, list[StateRecord]]] = []
        for invoice_id, result in zip(invoice_ids, results, strict=True):
            if isinstance(result, Exception):
                if preflight:
                    self.unreachable.add(invoice_id)
                    self.summary.failed.append({"invoice_id": invoice_id, "reason": f"pre-flight: {result}"})
            elif isinstance(result, BaseException):
                raise result
            else:
                histories.append((invoice_id, result))
        now = datetime.now(UTC)
        states = [row for i, history in histories for row in state_rows(i, history, now)]
        last = [{"invoice_id": i, "hub_state": h[-1].state, "hub_state_at": h[-1].state_at}
                for i, h in histories if h]  # fmt: skip
        store_histories(
            self.wh,
            [i for i, _ in histories],
            states=rows_table("raw.invoice_states", states),
            last=acknowledged_rows(last),
            now=now,
            source=self.hub.source,
        )
        resolve_confirmed(self.wh)

    async def _push_plan(self, plan: PushPlan) -> None:
        queues = {i: list(u) for i, u in plan.owed.items() if i not in self.unreachable}
        self.summary.owed += sum(len(u) for u in queues.values())
        while queues:
            wave = [updates.pop(0) for updates in queues.values()]
            intents = [Intent(u.invoice_id, u.state.value, u.push.payload()) for u in wave]
            record_intents(self.wh, intents, self.summary.run_id)
            outcomes = await self._push_wave(wave)
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

    async def _push_wave(self, wave: list[Update]) -> list[Outcome]:
        """Send a wave (one update per invoice) in one ``push_states`` call; the uncertain ones
        are resolved by re-reading the history, then re-sent together, up to AMBIGUOUS_RETRIES."""
        calls: dict[str, list[Call]] = {u.invoice_id: [] for u in wave}
        outcomes: dict[str, str] = {}
        todo = list(wave)
        for attempt in range(AMBIGUOUS_RETRIES + 1):
            results = await self.hub.push_states([(u.invoice_id, u.push) for u in todo])
            uncertain: list[Update] = []
            for update, result in zip(todo, results, strict=True):
                calls[update.invoice_id].append(_call(result))
                if result.outcome == "uncertain":
                    uncertain.append(update)
                else:
                    outcomes[update.invoice_id] = result.outcome
            # Uncertain (5xx or no answer): did it apply? Ask the hub before trying again.
            shown = await asyncio.gather(*(self._shows(u) for u in uncertain))
            todo = []
            for update, is_shown in zip(uncertain, shown, strict=True):
                if is_shown:
                    outcomes[update.invoice_id] = "confirmed"
                else:
                    todo.append(update)
            if not todo:
                break
            if attempt < AMBIGUOUS_RETRIES:
                await asyncio.sleep(AMBIGUOUS_WAIT * (2**attempt))
        return [
            Outcome(u.invoice_id, u.state.value, u.push.payload(), outcomes.get(u.invoice_id, "failed"),
                    tuple(calls[u.invoice_id]))  # fmt: skip
            for u in wave
        ]

    async def _shows(self, update: Update) -> bool:
        """Whether the hub's history shows the update's state (False when it cannot be read)."""
        try:
            history = await self.hub.history(update.invoice_id)
        except Exception:  # the hub cannot be read now: not shown, as far as we know
            return False
        return _shows(history, update)


def _call(result: PushResult) -> Call:
    if result.outcome == "sent":
        return Call(result.status or 200, None, None, result.hub_reference)
    return Call(result.status, result.code, result.message, result.hub_reference)


def _shows(history: list[StateRecord], update: Update) -> bool:
    return any(record.state == update.state.value for record in history)


def left_pending(wh: Warehouse, run_id: str) -> int:
    """This run's outbox intents still without a recorded outcome (an interrupted wave)."""
    return wh.fetch(
        "select count(*) from ops.push_outbox where run_id = ? and status = 'pending'", [run_id]
    )[0][0]


async def push(
    connector: Connector, wh: Warehouse, run_id: str, *, summary: PushSummary | None = None
) -> PushSummary:
    """Execute the plan of the connector's hub, filling ``summary`` as it goes (so an interrupted
    run's caller knows what it did)."""
    summary = summary or PushSummary(run_id=run_id)
    started = time.monotonic()
    try:
        await Pusher(connector, wh, summary).run()
    finally:
        summary.requests = connector.requests
        summary.seconds = round(time.monotonic() - started, 3)
    return summary
