"""Flows: send the period's legal document for signature; collect signed documents."""

from __future__ import annotations

from prefect import flow

from rcflow.reports.periods import parse_period
from tasks.artifacts import publish
from tasks.settings import flow_settings
from tasks.sign_tasks import collect_signed, send_for_signature


@flow(name="rcflow-sign")
def sign_flow(period: str = "last-month", document: str = "pmp", lang: str | None = None) -> dict:
    """Send ``document`` of ``period`` (``last-month``, ``last-quarter``, ``2025-Q4``…) for signature."""
    settings = flow_settings()
    sent = send_for_signature(settings, parse_period(period).label, document, lang)
    publish("rcflow-sign", f"rcflow: {sent.document} {sent.period} sent for signature",
            [("document", sent.document), ("period", sent.period), ("state", sent.state),
             ("operation", sent.operation_id), ("PDF", sent.pdf)])  # fmt: skip
    return sent.as_dict()


@flow(name="rcflow-collect-signatures")
def collect_signatures_flow() -> dict:
    """Poll the signing service; fails when a document was rejected or cancelled (a person must act)."""
    outcome = collect_signed(flow_settings())
    publish("rcflow-signatures", "rcflow: signatures collected",
            [("signed", len(outcome.signed)), ("waiting", len(outcome.waiting)),
             ("rejected", len(outcome.rejected)), ("cancelled", len(outcome.cancelled))],
            [f"needs attention: {r}" for r in outcome.rejected + outcome.cancelled])  # fmt: skip
    if outcome.rejected or outcome.cancelled:
        refused = len(outcome.rejected) + len(outcome.cancelled)
        raise RuntimeError(f"{refused} documents rejected or cancelled: see rcflow sign status")
    return vars(outcome)


if __name__ == "__main__":
    sign_flow()
