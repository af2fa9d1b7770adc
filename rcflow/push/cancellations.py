"""Sending the decided answers to cancellation requests, each once.

The outbox discipline of the state push (``rcflow.push.execute``), applied to
``ops.cancellation_decisions``:

* the intent is durable before any call (:func:`~rcflow.warehouse.cancellations.mark_sending`
  turns the decision ``uncertain``), the hub's answer after it
  (:func:`~rcflow.warehouse.cancellations.record_answers`);
* a decision left ``uncertain`` (a 5xx, a lost answer, an interrupted send) is never sent again
  before the hub is re-read: still listed as requested → not applied, send it; no longer listed
  → applied (an acceptance is confirmed by the invoice's history showing CANCELLED);
* one call per decision per send: an answer still uncertain after the re-read waits for the next
  send, which re-reads again. A refused decision stays refused until an operator decides again.

An applied acceptance makes the invoice CANCELLED in the warehouse (the hub confirmed it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rcflow.connectors.base import HandlesCancellations, PushResult
from rcflow.warehouse import Warehouse
from rcflow.warehouse.cancellations import (
    Answer,
    DueDecision,
    due_decisions,
    mark_sending,
    record_answers,
    store_requests,
)
from rcflow.warehouse.runs import new_run_id, recorded_run

log = logging.getLogger("rcflow.push.cancellations")
RUN_KIND = "cancellations"
Applied = Literal["applied", "not_applied", "answered_otherwise", "unknown"]


class NoCancellations(Exception):
    """The configured hub has no cancellation requests (eFACT): nothing can be sent."""


@dataclass
class CancellationSend:
    run_id: str
    due: int = 0
    sent: list[dict[str, object]] = field(default_factory=list)
    confirmed_already_on_hub: list[str] = field(default_factory=list)
    refused: list[dict[str, object]] = field(default_factory=list)
    uncertain: list[dict[str, object]] = field(default_factory=list)
    hub_calls: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.refused and not self.uncertain

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


def _require(connector: Any) -> None:
    if not isinstance(connector, HandlesCancellations):
        source = getattr(connector, "source", "configured")
        raise NoCancellations(f"the {source} hub has no cancellation requests")


async def send_decisions(connector: Any, wh: Warehouse, summary: CancellationSend) -> CancellationSend:
    """Send every due decision once (filling ``summary`` as it goes)."""
    _require(connector)
    due = due_decisions(wh)
    summary.due = len(due)
    if not due:
        return summary
    to_send: list[DueDecision] = []
    resolved: list[Answer] = []
    if any(d.status == "uncertain" for d in due):
        still_open = await _listed(connector, wh)
        for d in due:
            if d.status != "uncertain":
                to_send.append(d)
                continue
            verdict = await _applied(connector, d, still_open)
            if verdict == "not_applied":
                to_send.append(d)
            elif verdict != "unknown":
                resolved.append(_resolution(d, verdict))
            else:
                summary.uncertain.append(_named(d, "the hub could not be re-read; the next send asks again"))
        record_answers(wh, resolved, summary.run_id)
        _tally(summary, resolved, due)
    else:
        to_send = list(due)
    mark_sending(wh, to_send, summary.run_id)
    answers = []
    for d in to_send:
        answers.append(await _send_one(connector, d, summary))
    record_answers(wh, answers, summary.run_id)
    _tally(summary, answers, to_send)
    return summary


async def _send_one(connector: HandlesCancellations, d: DueDecision, summary: CancellationSend) -> Answer:
    summary.hub_calls += 1
    try:
        result = await connector.answer_cancellation(
            d.invoice_id, accept=d.decision == "accept", comment=d.comment
        )
    except Exception as exc:  # the contract says a hub's answer is a PushResult; anything else: unknown
        log.debug("answer to %s raised", d.invoice_id, exc_info=exc)
        result = PushResult(d.invoice_id, "uncertain", message=f"{type(exc).__name__}: {str(exc)[:200]}")
    if result.outcome != "uncertain":
        return Answer(d.invoice_id, d.decision_seq, result.outcome, result.code, result.message,
                      hub_reference=result.hub_reference)  # fmt: skip
    # No answer, or a 5xx: did it apply? Ask the hub; never call again in this send.
    verdict = await _applied(connector, d, await _listed(connector, None))
    if verdict == "unknown" or verdict == "not_applied":
        return Answer(d.invoice_id, d.decision_seq, "uncertain", result.code, result.message)
    answer = _resolution(d, verdict)
    return Answer(d.invoice_id, d.decision_seq, answer.status, answer.hub_code, answer.hub_message, calls=1)


async def _listed(connector: HandlesCancellations, wh: Warehouse | None) -> set[str] | None:
    """The invoices whose request the hub lists as waiting now (None: the hub could not be read).
    With ``wh``, the listing is stored too (it is the hub's latest word)."""
    try:
        requests = await connector.cancellation_requests()
    except Exception as exc:
        log.debug("cancellation requests not re-read", exc_info=exc)
        return None
    if wh is not None:
        store_requests(wh, requests, source=getattr(connector, "source", "efact"))
    return {r.invoice_id for r in requests if r.state == "requested"}


async def _applied(connector: Any, d: DueDecision, still_open: set[str] | None) -> Applied:
    """Whether a decision whose answer was lost reached the hub, from the hub's own word."""
    if still_open is None:
        return "unknown"
    if d.invoice_id in still_open:
        return "not_applied"
    if d.decision == "reject":
        return "applied"  # no longer waiting and rejected is what the hub keeps no trace of otherwise
    try:
        history = await connector.history(d.invoice_id)
    except Exception as exc:
        log.debug("history of %s not re-read", d.invoice_id, exc_info=exc)
        return "unknown"
    return "applied" if _shows_cancelled(history) else "answered_otherwise"


def _shows_cancelled(history: Any) -> bool:
    entries: Iterable[Any] = history if isinstance(history, list | tuple) else getattr(history, "estats", [])
    return any(str(getattr(e, "state", "")).upper() == "CANCELLED" for e in entries)


def _resolution(d: DueDecision, verdict: Applied) -> Answer:
    if verdict == "applied":
        return Answer(
            d.invoice_id, d.decision_seq, "sent", None, "found applied on the hub after a lost answer", 0
        )
    return Answer(
        d.invoice_id, d.decision_seq, "refused", None,
        "the request is no longer open on the hub and the invoice is not cancelled (answered elsewhere)", 0,
    )  # fmt: skip


def _named(d: DueDecision, reason: str | None, code: str | None = None) -> dict[str, object]:
    return {"invoice_id": d.invoice_id, "decision": d.decision, "code": code, "reason": reason}


def _tally(summary: CancellationSend, answers: list[Answer], decisions: list[DueDecision]) -> None:
    by_key = {(d.invoice_id, d.decision_seq): d for d in decisions}
    for a in answers:
        d = by_key[(a.invoice_id, a.decision_seq)]
        if a.status == "sent" and a.calls == 0:
            summary.confirmed_already_on_hub.append(a.invoice_id)
        elif a.status == "sent":
            summary.sent.append(_named(d, a.hub_message, a.hub_code))
        elif a.status == "refused":
            summary.refused.append(_named(d, a.hub_message, a.hub_code))
        else:
            summary.uncertain.append(_named(d, a.hub_message or "no answer", a.hub_code))


async def run_send(connector: Any, wh: Warehouse) -> CancellationSend:
    """One recorded send (``ops.runs`` kind ``cancellations``) over an open warehouse."""
    _require(connector)  # before a run is recorded
    summary = CancellationSend(run_id=new_run_id(RUN_KIND))
    started = time.monotonic()

    def final() -> dict[str, object]:
        summary.seconds = round(time.monotonic() - started, 3)
        return summary.as_dict()

    with recorded_run(wh, summary.run_id, RUN_KIND, summary=final, ok=lambda: summary.ok):
        await send_decisions(connector, wh, summary)
    return summary
