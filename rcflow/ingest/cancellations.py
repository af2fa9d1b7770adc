"""Draining a hub's cancellation requests and credit assignments into the warehouse.

Hub-neutral: it asks the connector's optional capabilities
(:class:`~rcflow.connectors.base.HandlesCancellations`,
:class:`~rcflow.connectors.base.ReportsCreditAssignments`); a hub that has neither (eFACT) drains
nothing. Requests land in ``raw.cancellation_requests`` (``rcflow.warehouse.cancellations``
writes them); credit assignments are asked for a bounded number of stored invoices that are not
final, those never asked first.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from rcflow import clock
from rcflow.connectors.base import (
    CreditAssignment,
    FetchFailure,
    HandlesCancellations,
    ReportsCreditAssignments,
)
from rcflow.warehouse import Warehouse
from rcflow.warehouse.cancellations import (
    invoices_without_final_state,
    store_credit_assignments,
    store_requests,
)

log = logging.getLogger("rcflow.ingest.cancellations")
CREDIT_ASSIGNMENTS_PER_RUN = 200
LISTING_CAP = 500  # FACe lists at most 500 requests per office: a full page may hide more


@dataclass
class CancellationDrain:
    requests: int = 0
    open_requests: list[str] = field(default_factory=list)
    credit_assignments_asked: int = 0
    credit_assignments: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def drain_cancellations(
    connector: Any,
    wh: Warehouse,
    *,
    office: str | None = None,
    credit_limit: int = CREDIT_ASSIGNMENTS_PER_RUN,
) -> CancellationDrain:
    """Store the requests the hub lists (and the credit assignments of up to ``credit_limit``
    invoices not final). A hub without these capabilities drains nothing."""
    summary = CancellationDrain()
    source = getattr(connector, "source", "efact")
    if isinstance(connector, HandlesCancellations):
        listed = await connector.cancellation_requests(office=office)
        complete = office is None and len(listed) < LISTING_CAP
        summary.requests = store_requests(wh, listed, source=source, complete=complete, now=clock.now())
        summary.open_requests = sorted({r.invoice_id for r in listed if r.state == "requested"})
    if isinstance(connector, ReportsCreditAssignments) and credit_limit > 0:
        final = sorted(getattr(connector, "final_states", ()) or ())
        ids = invoices_without_final_state(wh, source, final, credit_limit)
        summary.credit_assignments_asked = len(ids)
        found = await asyncio.gather(*(_credit(connector, i) for i in ids))
        for failure in (f for f in found if isinstance(f, FetchFailure)):
            summary.failures.append({"invoice_id": failure.invoice_id, "reason": failure.reason})
        # "none" is an answer too (stored empty, so the next run asks other invoices first)
        answered = [
            f if isinstance(f, CreditAssignment) else CreditAssignment(i, None, None, "null")
            for i, f in zip(ids, found, strict=True)
            if not isinstance(f, FetchFailure)
        ]
        store_credit_assignments(wh, answered, source=source)
        summary.credit_assignments = sum(1 for a in answered if a.state_code or a.description)
    return summary


async def _credit(
    connector: ReportsCreditAssignments, invoice_id: str
) -> CreditAssignment | FetchFailure | None:
    """One invoice's credit assignment; a failure of one invoice never stops the others."""
    try:
        return await connector.credit_assignment(invoice_id)
    except Exception as exc:  # a hub's refusal or a transport failure of this one invoice
        log.debug("credit assignment of %s not read", invoice_id, exc_info=exc)
        return FetchFailure(invoice_id, f"{type(exc).__name__}: {str(exc)[:200]}")
