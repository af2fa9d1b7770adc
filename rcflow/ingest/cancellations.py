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
    CancellationRequest,
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


def request_rows(requests: list[CancellationRequest]) -> list[dict[str, Any]]:
    """The warehouse's rows for the requests a connector listed (the last one of an invoice wins)."""
    rows = {
        r.invoice_id: {
            "invoice_id": r.invoice_id,
            "requested_at": r.requested_at,
            "reason": r.reason,
            "hub_state": r.state,
            "raw_json": r.raw_json,
        }
        for r in requests
    }
    return list(rows.values())


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
        rows = request_rows(listed)
        complete = office is None and len(rows) < LISTING_CAP
        store_requests(wh, rows, source=source, complete=complete, now=clock.now())
        summary.requests = len(rows)
        summary.open_requests = [r["invoice_id"] for r in rows if r["hub_state"] == "requested"]
    if isinstance(connector, ReportsCreditAssignments) and credit_limit > 0:
        final = sorted(getattr(connector, "final_states", ()) or ())
        ids = invoices_without_final_state(wh, source, final, credit_limit)
        summary.credit_assignments_asked = len(ids)
        found = await asyncio.gather(*(_credit(connector, i) for i in ids))
        assignments = [a for a in found if isinstance(a, CreditAssignment)]
        for failure in (f for f in found if isinstance(f, FetchFailure)):
            summary.failures.append({"invoice_id": failure.invoice_id, "reason": failure.reason})
        store_credit_assignments(
            wh,
            [
                {"invoice_id": a.invoice_id, "state_code": a.state_code, "description": a.description,
                 "raw_json": a.raw_json}
                for a in assignments
            ],
            source=source,
        )  # fmt: skip
        summary.credit_assignments = len(assignments)
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
