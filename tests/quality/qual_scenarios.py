"""One warehouse, many invoices: clean ones that pass every rule, and one per broken rule.

``QUARANTINED`` and ``FLAGGED`` say exactly which ids each rule must catch; every other id must
pass it. Invoice ids name the rule they break (``ok-*`` break none).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from qual_data import (
    NOW,
    REGISTERED_AT,
    Data,
    event,
    facturae,
    invoice,
    lifecycle,
    loosen,
    state,
    write,
)

MANY = [f"many-currency-{i:02d}" for i in range(25)]  # more than the 20-id sample


def scenario() -> Data:
    d = Data()
    t = REGISTERED_AT

    # --- clean invoices, including the edges each rule must accept -------------------------
    d.good("ok-1")
    d.events += [
        event("ok-1", "ANNOTATED", date(2025, 1, 12)),
        event("ok-1", "RECOGNISED", date(2025, 1, 20)),
        event("ok-1", "PAID", date(2025, 2, 1)),
    ]
    d.good("ok-foreign", supplier_nif="FR40303265045")  # EU VAT is fine for a supplier
    d.good("ok-nif-nie", supplier_nif="12345678Z", entity_nif="X1234567L")
    d.good("ok-same-day", issue_date=date(2025, 1, 11), registry_at=t)  # issued = registered
    d.good("ok-public-codes", history=False)
    d.states += [
        state("ok-public-codes", 0, "REGISTERED", "1200", t),
        state("ok-public-codes", 1, "DELIVERED", "1200", t),  # same instant: non-decreasing
        state("ok-public-codes", 2, "ANNOTATED", "1300", t + timedelta(days=1), rcf_number="R"),
    ]
    d.good("ok-rejected", history=False)
    d.states += [
        state("ok-rejected", 0, "REGISTERED", "1200", t),
        state("ok-rejected", 1, "REJECTED", "2600", t + timedelta(days=2), reject_reason="dup"),
    ]
    d.events += [
        # paid on the registry day; recognised and paid the same day as annotated
        event("ok-same-day", "ANNOTATED", date(2025, 1, 11)),
        event("ok-same-day", "RECOGNISED", date(2025, 1, 11)),
        event("ok-same-day", "PAID", date(2025, 1, 11)),
        event("ok-nif-nie", "PAID", NOW.date()),  # today is not the future
        event("ok-foreign", "RECEIVED", date(2025, 1, 13)),  # optional states are not milestones
    ]

    # --- invoices suite ---------------------------------------------------------------------
    d.good("bad-supplier-checksum", supplier_nif="B12345678")
    d.good("bad-supplier-missing", supplier_nif=None)
    d.good("bad-entity-foreign", entity_nif="FR40303265045")  # a Catalan entity must be Spanish
    d.good("bad-entity-garbage", entity_nif="not-a-nif")
    d.good("bad-dir3-short", processing_unit="L0108019")
    d.good("bad-dir3-digit-first", accounting_office="010801930")
    d.good("bad-amount", amount_cents=None)
    d.good("flag-credit-negative", amount_cents=-12100)
    d.invoices.append(invoice("flag-credit-corrective"))
    d.documents.append(facturae("flag-credit-corrective", invoice_class="OR"))
    d.good("bad-issued-late", issue_date=date(2025, 1, 12))
    d.good("bad-registry-future", registry_at=NOW + timedelta(days=1), history=False)
    d.good("bad-xml-total")
    d.mismatches.append(
        {"invoice_id": "bad-xml-total", "field": "total", "hub_value": "121.00", "xml_value": "120"}
    )
    d.invoices.append(invoice("bad-currency"))
    d.documents.append(facturae("bad-currency", currency=None))
    d.invoices.append(invoice("bad-parse"))
    d.documents.append(
        facturae("bad-parse", parse_status="quarantined", parse_error="not XML", currency=None)
    )
    d.invoices.append(invoice("bad-no-facturae"))
    for invoice_id in MANY:
        d.invoices.append(invoice(invoice_id))
        d.documents.append(facturae(invoice_id, currency=" "))

    # --- invoice_states suite ---------------------------------------------------------------
    d.good("bad-code", history=False)
    d.states += [
        state("bad-code", 0, "REGISTERED", "1200", t),
        state("bad-code", 1, "ANNOTATED", "2500", t + timedelta(days=1), rcf_number="R"),
    ]
    d.good("bad-code-missing", history=False)
    d.states += [state("bad-code-missing", 0, "REGISTERED", None, t)]
    d.good("bad-state-unknown", history=False)
    d.states += [state("bad-state-unknown", 0, "LOST", "9999", t)]
    d.good("bad-time-order", history=False)
    d.states += [
        state("bad-time-order", 0, "REGISTERED", "1200", t),
        state("bad-time-order", 1, "DELIVERED", "1250", t + timedelta(days=2)),
        state("bad-time-order", 2, "ANNOTATED", "1400", t + timedelta(days=1), rcf_number="R"),
    ]
    d.good("bad-rcf-missing", history=False)
    d.states += [
        state("bad-rcf-missing", 0, "REGISTERED", "1200", t),
        state("bad-rcf-missing", 1, "ANNOTATED", "1400", t + timedelta(days=1), rcf_number=" "),
    ]
    d.good("flag-paid-no-date", history=False)
    d.states += [
        *lifecycle("flag-paid-no-date")[:4],
        state("flag-paid-no-date", 4, "PAID", "2500", t + timedelta(days=21)),
    ]
    d.good("bad-reject-no-reason", history=False)
    d.states += [
        state("bad-reject-no-reason", 0, "REGISTERED", "1200", t),
        state("bad-reject-no-reason", 1, "REJECTED", "2600", t + timedelta(days=1)),
    ]
    d.good("bad-after-paid", history=False)
    d.states += [
        *lifecycle("bad-after-paid"),
        state("bad-after-paid", 5, "RECOGNISED", "2400", t + timedelta(days=30)),
    ]
    d.good("bad-after-rejected", history=False)
    d.states += [
        state("bad-after-rejected", 0, "REGISTERED", "1200", t),
        state("bad-after-rejected", 1, "REJECTED", "2600", t + timedelta(days=1), reject_reason="x"),
        state("bad-after-rejected", 2, "ANNOTATED", "1400", t + timedelta(days=2), rcf_number="R"),
    ]

    # --- accounting_events suite -------------------------------------------------------------
    d.good("bad-event-future")
    d.events.append(event("bad-event-future", "ANNOTATED", NOW.date() + timedelta(days=1)))
    d.good("bad-paid-before-registry")
    d.events.append(event("bad-paid-before-registry", "PAID", date(2025, 1, 10)))
    d.good("bad-recognised-before-annotated")
    d.events += [
        event("bad-recognised-before-annotated", "ANNOTATED", date(2025, 1, 20)),
        event("bad-recognised-before-annotated", "RECOGNISED", date(2025, 1, 15)),
    ]
    d.good("bad-paid-before-recognised")
    d.events += [
        event("bad-paid-before-recognised", "ANNOTATED", date(2025, 1, 12)),
        event("bad-paid-before-recognised", "RECOGNISED", date(2025, 1, 25)),
        event("bad-paid-before-recognised", "PAID", date(2025, 1, 20)),
    ]
    d.events.append(event("ghost-1", "PAID", date(2025, 2, 1)))
    return d


def broken_keys(path: Path) -> Path:
    """A warehouse whose keys were lost: duplicate and null ids, duplicate state/event keys."""
    write(path, Data())
    loosen(path, ["raw.invoices", "raw.invoice_states", "ops.accounting_events"])
    data = Data()
    data.good("ok-1")
    data.good("dup-1")
    data.invoices += [invoice("dup-1"), invoice(None)]
    data.good("dup-state", history=False)
    data.states += [state("dup-state", 0, "REGISTERED", "1200", REGISTERED_AT)] * 2
    data.good("dup-event")
    day = REGISTERED_AT.date()
    data.events += [event("dup-event", "ANNOTATED", day, 1), event("dup-event", "ANNOTATED", day, 2)]
    return write(path, data)


# reason -> the invoice ids quarantined for it; rules absent from here must quarantine nothing.
QUARANTINED: dict[str, set[str]] = {
    "supplier_tax_id_valid": {"bad-supplier-checksum", "bad-supplier-missing"},
    "entity_tax_id_valid": {"bad-entity-foreign", "bad-entity-garbage"},
    "dir3_well_formed": {"bad-dir3-short", "bad-dir3-digit-first"},
    "amount_present": {"bad-amount"},
    "issued_before_registry": {"bad-issued-late"},
    "registry_not_in_future": {"bad-registry-future"},
    "xml_matches_hub": {"bad-xml-total"},
    "currency_present": {"bad-currency", "bad-parse", "bad-no-facturae", *MANY},
    "facturae_parsed": {"bad-parse", "bad-no-facturae"},
    "state_code_matches": {"bad-code", "bad-code-missing", "bad-state-unknown"},
    "state_times_ordered": {"bad-time-order"},
    "annotated_has_rcf_number": {"bad-rcf-missing"},
    "rejected_has_reason": {"bad-reject-no-reason"},
    "nothing_after_final_state": {"bad-after-paid", "bad-after-rejected"},
    "event_not_in_future": {"bad-event-future"},
    "payment_not_before_registry": {"bad-paid-before-registry"},
    "milestones_in_order": {"bad-recognised-before-annotated", "bad-paid-before-recognised"},
    "invoice_known": {"ghost-1"},
}

FLAGGED: dict[str, set[str]] = {
    "credit_note": {"flag-credit-negative", "flag-credit-corrective"},
    "paid_has_payment_date": {"flag-paid-no-date"},
}

BLOCKING = {"invoice_id_not_null", "invoice_id_unique", "state_seq_unique", "event_key_unique"}
