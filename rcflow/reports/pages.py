"""What the HTML pages show, read from the built marts into plain dicts (codes as the marts
have them; the labels below, English msgids, are translated where they are shown)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from rcflow.reports.i18n import N_
from rcflow.reports.periods import Period

STATUS_ORDER = ("SENT", "REGISTERED", "DELIVERED", "ANNOTATED", "RECEIVED", "ACCEPTED",
                "RECOGNISED", "PAID", "REJECTED", "CANCELLED")  # fmt: skip
AGEING_ORDER = ("0-30", "31-60", "61-90", "91-180", "181+")
TOP_OVERDUE = 15
TOP_ART10 = 25
DASHBOARD_ROWS = 400
# What the dashboard's two invoice lists print (reading only these of invoice_status's ~50
# columns makes each list's query about twice as fast on a million invoices).
DASHBOARD_LIST_COLUMNS = ("invoice_id, entity_nif, entity_name, invoice_number, supplier_name, status,"
                          " amount, start_on, days_open, days_overdue, is_overdue, is_start_inferred,"
                          " owed_to_hub_states, owed_since_on, owed_blocked_count")  # fmt: skip

STATUS_LABELS = {
    "SENT": N_("Sent"), "REGISTERED": N_("Registered"), "DELIVERED": N_("Delivered"),
    "ANNOTATED": N_("Annotated"), "RECEIVED": N_("Received"), "ACCEPTED": N_("Accepted"),
    "RECOGNISED": N_("Recognised"), "PAID": N_("Paid"), "REJECTED": N_("Rejected"),
    "CANCELLED": N_("Cancelled"),
}  # fmt: skip
FIGURE_LABELS = {"PMP": N_("Average period of payment to suppliers"), "Morosity": N_("Morosity"),
                 "Art. 10 list": N_("Art. 10 list"),
                 "Late-payment interest": N_("Late-payment interest")}  # fmt: skip
EXCLUSION_LABELS = {
    "quarantined": N_("open quality findings (opt-in reading)"),
    "not_registered": N_("not registered"),
    "credit_note": N_("credit note"),
    "rejected": N_("rejected"),
    "cancelled": N_("cancelled at the supplier's request"),
    "pending_not_yet_accepted": N_("pending, not yet conformed"),
}
SCOPE_LABELS = {"public_body": N_("public body"), "embargo": N_("embargo"), "set_off": N_("set-off"),
                "supplier_fund": N_("suppliers' payment fund"), "other": N_("other"),
                "issued_before_scope": N_("issued before the PMP scope")}  # fmt: skip
OBLIGATION_LABELS = {"owed_to_hub": N_("owed to the hub"), "missing_in_sequence": N_("missing in sequence"),
                     "overdue": N_("overdue")}  # fmt: skip
SIGNATURE_STATES = {"sending": N_("sending"), "in_process": N_("in process"), "signed": N_("signed"),
                    "rejected": N_("rejected by a signatory"), "cancelled": N_("cancelled")}  # fmt: skip


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    rows = _rows(con, sql)
    return rows[0] if rows else {}


def _global_row(con: duckdb.DuckDBPyConnection) -> dict:
    """The global PMP row the headline shows: the warehouse's ('ALL', nothing declared) or the
    only declared administration's; empty when several are declared (each in ``administrations``)."""
    rows = _rows(con, "select * from main.pmp where is_global order by administration_id")
    return rows[0] if len(rows) == 1 else {}


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The figures a reader wants first (also returned by ``build_reports``)."""
    pmp = _global_row(con)
    totals = _one(con, """
        select sum(paid_count) as paid_count, coalesce(sum(paid_amount), 0) as paid_amount,
               sum(pending_count) as pending_count, coalesce(sum(pending_amount), 0) as pending_amount,
               sum(start_inferred_count) as start_inferred_count,
               sum(negative_days_count) as negative_days_count,
               any_value(pmp_method) as pmp_method, any_value(method_label) as method_label
        from main.pmp where not is_global and entity_nif <> '(unknown)'""")  # fmt: skip
    morosity = _one(con, """
        select coalesce(sum(paid_late_count), 0) as paid_late_count,
               coalesce(sum(paid_late_amount), 0) as paid_late_amount,
               coalesce(sum(pending_late_count), 0) as pending_late_count,
               coalesce(sum(pending_late_amount), 0) as pending_late_amount
        from main.morosity where entity_nif not in ('ALL', '(unknown)')""")  # fmt: skip
    status = _one(con, """
        select count(*) as invoices,
               count(*) filter (where is_quarantined) as quarantined,
               count(*) filter (where exclusion_reason = 'credit_note') as credit_notes,
               count(*) filter (where operation_role is not null and scope_exclusion is not null)
                   as scope_excluded,
               coalesce(sum(amount) filter (
                   where operation_role is not null and scope_exclusion is not null), 0)
                   as scope_excluded_amount,
               count(*) filter (where owed_due_count > 0) as invoices_owing_hub,
               coalesce(sum(owed_due_count), 0) as updates_owed_to_hub
        from main.invoice_status""")  # fmt: skip
    art10 = _one(con, "select count(*) as n, sum(amount) as amount from main.pending_recognition")
    interest = _one(con, """
        select count(*) as n, sum(interest) as interest, sum(recovery_costs) as recovery_costs,
               sum(total_claimable) as total_claimable,
               count(*) filter (where is_rate_missing) as unrated,
               coalesce(sum(unrated_days), 0) as unrated_days,
               coalesce(sum(unrated_principal), 0) as unrated_principal
        from main.late_interest""")  # fmt: skip
    obligations = _one(con, "select count(*) as n from main.obligations")
    source = pmp or totals
    return {
        "pmp_global": pmp.get("pmp"),
        "pmp_global_administration": pmp.get("administration_name"),
        "is_within_30_days": pmp.get("is_within_30_days"),
        "paid_ratio": pmp.get("paid_ratio"),
        "pending_ratio": pmp.get("pending_ratio"),
        "paid_count": source.get("paid_count") or 0,
        "paid_amount": source.get("paid_amount") or 0,
        "pending_count": source.get("pending_count") or 0,
        "pending_amount": source.get("pending_amount") or 0,
        "method": totals.get("pmp_method") or pmp.get("pmp_method"),
        "method_label": totals.get("method_label") or pmp.get("method_label"),
        "start_inferred_count": totals.get("start_inferred_count") or 0,
        "negative_days_count": totals.get("negative_days_count") or 0,
        "paid_late_count": morosity.get("paid_late_count", 0),
        "paid_late_amount": morosity.get("paid_late_amount", 0),
        "pending_late_count": morosity.get("pending_late_count", 0),
        "pending_late_amount": morosity.get("pending_late_amount", 0),
        "invoices": status.get("invoices", 0),
        "quarantined_count": status.get("quarantined", 0),
        "credit_note_count": status.get("credit_notes", 0),
        "scope_excluded_count": status.get("scope_excluded", 0),
        "scope_excluded_amount": status.get("scope_excluded_amount", 0),
        "invoices_owing_hub": status.get("invoices_owing_hub", 0),
        "updates_owed_to_hub": status.get("updates_owed_to_hub", 0),
        "art10_count": art10.get("n", 0),
        "art10_amount": art10.get("amount"),
        "late_interest_count": interest.get("n", 0),
        "late_interest_amount": interest.get("interest"),
        "recovery_costs_amount": interest.get("recovery_costs"),
        "late_interest_total_claimable": interest.get("total_claimable"),
        "late_interest_unrated_count": interest.get("unrated", 0),
        "late_interest_unrated_days": interest.get("unrated_days", 0),
        "late_interest_unrated_principal": interest.get("unrated_principal", 0),
        "obligations_count": obligations.get("n", 0),
    }


# Each legal figure and the invoices of it that carry open quality findings (§4.1).
_FINDINGS_BY_FIGURE = """
    select figure, n, amount from (
        select 1 as ordinal, 'PMP' as figure, count(*) as n, coalesce(sum(amount), 0) as amount
        from main.invoice_status where is_quarantined and pmp_role is not null
        union all
        select 2, 'Morosity', count(*), coalesce(sum(amount), 0)
        from main.invoice_status where is_quarantined and morosity_role is not null
        union all
        select 3, 'Art. 10 list', count(*), coalesce(sum(amount), 0)
        from main.pending_recognition where is_quarantined
        union all
        select 4, 'Late-payment interest', count(*), coalesce(sum(principal), 0)
        from main.late_interest where is_quarantined
    ) order by ordinal
"""  # a UNION ALL runs its branches in parallel: the order is said, not assumed


def legal_notes(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """What the legal figures rest on: open findings per figure and the invoices behind them,
    the scope exclusions, the administrations' global PMPs and the interest rates used."""
    return {
        "findings_by_figure": _rows(con, _FINDINGS_BY_FIGURE),
        "findings_invoices": _rows(con, """
            select invoice_id, entity_nif, invoice_number, supplier_nif, amount, status,
                   pmp_role, morosity_role, quarantine_reasons
            from main.invoice_status where is_quarantined
            order by entity_nif, invoice_id"""),
        "scope_exclusions": _rows(con, """
            select invoice_id, entity_nif, supplier_nif, supplier_name, amount, status,
                   scope_exclusion, scope_exclusion_source
            from main.invoice_status where scope_exclusion is not null
            order by scope_exclusion, entity_nif, invoice_id"""),
        "administrations": _rows(con, """
            select administration_id, administration_name, paid_count, paid_amount, pending_count,
                   pending_amount, pmp, is_within_30_days, findings_count, findings_amount
            from main.pmp where is_global order by administration_id"""),
        "rates_used": _rows(con, """
            select half_year_start, half_year_end, legal_rate, source, status, source_file,
                   invoice_count, accrual_days, interest
            from main.interest_rates where is_used order by half_year_start"""),
    }


def left_out(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Quarantine reasons and every exclusion from the figures, with counts and amounts."""
    return {
        "quarantine": _rows(con, """
            select stage, reason, sum(invoice_count) as n, sum(amount) as amount
            from main.quarantine_summary group by all order by n desc, stage, reason"""),
        "exclusions": _rows(con, """
            select exclusion_reason, null as scope_exclusion, count(*) as n, sum(amount) as amount
            from main.invoice_status where exclusion_reason is not null
            group by all
            union all
            select 'out of PMP scope: ' || scope_exclusion, scope_exclusion, count(*), sum(amount)
            from main.invoice_status
            where exclusion_reason is null and scope_exclusion is not null
            group by all
            order by 3 desc, 1"""),
    }


def _trend(con: duckdb.DuckDBPyConnection, entity_names: dict[str, str]) -> dict[str, Any]:
    rows = _rows(con, "select * from main.pmp_trend order by period_start")
    # every period has one ALL row per administration; the chart's total is the first one
    first_admin = min((r["administration_id"] for r in rows if r["entity_nif"] == "ALL"), default=None)
    rows = [r for r in rows if r["entity_nif"] != "ALL" or r["administration_id"] == first_admin]
    totals = [r for r in rows if r["entity_nif"] == "ALL"]
    labels = [r["period"] for r in totals]
    breaks = [i for i, r in enumerate(totals) if r["is_method_break"]]
    by_entity: dict[str, dict[str, float | None]] = {}
    weight: dict[str, float] = {}
    for r in rows:
        by_entity.setdefault(r["entity_nif"], {})[r["period"]] = r["pmp"]
        weight[r["entity_nif"]] = weight.get(r["entity_nif"], 0.0) + float(
            r["paid_amount"] + r["pending_amount"]
        )
    entities = sorted((e for e in by_entity if e != "ALL"), key=lambda e: (-weight[e], e))
    shown = (["ALL"] if "ALL" in by_entity else []) + entities[:7]
    series = [
        {
            "entity_nif": e,
            "name": "All entities" if e == "ALL" else entity_names.get(e) or e,
            "values": [by_entity[e].get(label) for label in labels],
        }
        for e in shown
    ]
    return {"labels": labels, "series": series, "breaks": breaks,
            "hidden": max(0, len(entities) - 7),
            "methods": sorted({r["method_label"] for r in rows})}  # fmt: skip


@dataclass(frozen=True)
class Figures:
    """What both pages and ``report.json`` show: the headline, what the figures left out and the
    legal notes, queried once per report run (:func:`figures`)."""

    headline: dict[str, Any]
    left_out: dict[str, list[dict]]
    legal: dict[str, list[dict]]


def figures(con: duckdb.DuckDBPyConnection) -> Figures:
    return Figures(headline=headline(con), left_out=left_out(con), legal=legal_notes(con))


def report_context(con: duckdb.DuckDBPyConnection, shared: Figures | None = None) -> dict[str, Any]:
    """Everything ``report.html`` shows, straight from the marts (``shared``: already queried)."""
    shared = shared or figures(con)
    pmp_rows = _rows(con, "select * from main.pmp order by entity_nif = 'ALL', entity_nif")
    names = {r["entity_nif"]: r["entity_name"] for r in pmp_rows if r["entity_name"]}
    status_counts = {r["status"]: r for r in _rows(con, """
        select status, count(*) as n, sum(amount) as amount from main.invoice_status
        where exclusion_reason is null or exclusion_reason in ('rejected', 'cancelled')
        group by status""")}  # fmt: skip
    ageing = {r["ageing_bucket"]: r for r in _rows(con, """
        select ageing_bucket, count(*) as n, sum(amount) as amount from main.invoice_status
        where exclusion_reason is null and ageing_bucket in ('0-30', '31-60', '61-90',
              '91-180', '181+') group by ageing_bucket""")}  # fmt: skip
    return {
        "headline": dict(shared.headline),
        "pmp_rows": pmp_rows,
        "trend": _trend(con, names),
        "morosity_rows": _rows(
            con, "select * from main.morosity order by entity_nif = 'ALL', entity_nif"
        ),
        "status_counts": [
            {"status": s, "n": status_counts[s]["n"], "amount": status_counts[s]["amount"]}
            for s in STATUS_ORDER if s in status_counts
        ],
        "ageing": [
            {"bucket": b, "n": ageing[b]["n"] if b in ageing else 0,
             "amount": ageing[b]["amount"] if b in ageing else 0}
            for b in AGEING_ORDER
        ],
        "worst_overdue": _rows(con, f"""
            select * from main.invoice_status
            where is_overdue and exclusion_reason is null
            order by days_overdue desc, amount desc, invoice_id limit {TOP_OVERDUE}"""),
        "art10_rows": _rows(con, f"""
            select * from main.pending_recognition
            order by days_since_annotation desc, invoice_id limit {TOP_ART10}"""),
        "obligation_summary": _rows(con, """
            select obligation, state, count(*) as n, max(days_outstanding) as max_days,
                   count(*) filter (where is_blocked_by_final_state) as blocked
            from main.obligations group by all order by obligation, state"""),
        "lags": _rows(con, """
            select * from main.state_lags where entity_nif = 'ALL' order by transition desc"""),
        "interest_rows": _rows(con, """
            select * from main.late_interest
            order by interest desc nulls first, invoice_id limit 10"""),
        **shared.left_out,
        "rates": _rows(con, """
            select status, count(*) as n, min(half_year_start) as first_day,
                   max(half_year_end) as last_day
            from main.interest_rates group by status order by status"""),
        **shared.legal,
        "entity_names": names,
    }


def dashboard_context(con: duckdb.DuckDBPyConnection, shared: Figures | None = None) -> dict[str, Any]:
    """Per-entity aggregates and the rows the dashboard filters in the browser (``shared``:
    already queried)."""
    def empty(name: str) -> dict[str, Any]:
        return {"name": name, "status": {}, "ageing": {}, "open": 0, "overdue": 0,
                "owed_updates": 0, "owing_invoices": 0, "quarantined": 0, "invoices": 0}  # fmt: skip

    per_entity: dict[str, dict[str, Any]] = {"ALL": empty("All entities")}
    for r in _rows(con, """
            select entity_nif, any_value(entity_name) as entity_name, status, ageing_bucket,
                   is_quarantined, exclusion_reason is null as in_scope, is_overdue,
                   count(*) as n,
                   sum(owed_due_count) as owed,
                   count(*) filter (where owed_due_count > 0) as owing
            from main.invoice_status group by all order by all"""):  # fmt: skip
        for key in (r["entity_nif"], "ALL"):
            entry = per_entity.setdefault(key, empty(r["entity_name"] or key))
            n = r["n"]
            entry["invoices"] += n
            entry["owed_updates"] += int(r["owed"] or 0)
            entry["owing_invoices"] += r["owing"]
            if r["is_quarantined"]:
                entry["quarantined"] += n
            if r["in_scope"] or r["status"] in ("REJECTED", "CANCELLED"):
                entry["status"][r["status"]] = entry["status"].get(r["status"], 0) + n
            if r["in_scope"] and r["ageing_bucket"] in AGEING_ORDER:
                entry["open"] += n
                entry["ageing"][r["ageing_bucket"]] = entry["ageing"].get(r["ageing_bucket"], 0) + n
                entry["overdue"] += n if r["is_overdue"] else 0
    owed = _rows(con, f"""
        select {DASHBOARD_LIST_COLUMNS} from main.invoice_status where owed_due_count > 0
        order by owed_since_on, invoice_id limit {DASHBOARD_ROWS}""")  # fmt: skip
    oldest = _rows(con, f"""
        select {DASHBOARD_LIST_COLUMNS} from main.invoice_status
        where exclusion_reason is null and ageing_bucket in ('0-30', '31-60', '61-90', '91-180', '181+')
        order by days_open desc, invoice_id limit {DASHBOARD_ROWS}""")  # fmt: skip
    order = ["ALL", *sorted((k for k in per_entity if k != "ALL"),
                            key=lambda k: per_entity[k]["name"])]  # fmt: skip
    return {
        "entities": {k: per_entity[k] for k in order},
        "owed_rows": owed,
        "oldest_rows": oldest,
        "headline": dict((shared or figures(con)).headline),
    }


def _warehouse_rows(
    con: duckdb.DuckDBPyConnection, snapshot: Path | None, relation: str, sql: str
) -> list[dict]:
    """The rows of ``sql`` over ``ops.<relation>`` in the warehouse snapshot (written
    ``{ops}.<relation>``, its macros ``{main}.name``); none when the snapshot or the relation is
    missing. Read through ``con`` when it has the snapshot attached as ``wh`` (a report run's
    build connection), else from the file."""
    if snapshot is None or not Path(snapshot).exists():
        return []
    attached = con.execute(
        "select path from duckdb_databases() where database_name = 'wh'"
    ).fetchone()  # fmt: skip
    if attached and attached[0] and Path(attached[0]).resolve() == Path(snapshot).resolve():
        return _relation_rows(con, "wh", relation, sql)
    with duckdb.connect(str(snapshot), read_only=True) as own:
        return _relation_rows(own, own.execute("select current_database()").fetchone()[0], relation, sql)


def _relation_rows(con: duckdb.DuckDBPyConnection, catalog: str, relation: str, sql: str) -> list[dict]:
    known = con.execute(
        "select count(*) from information_schema.tables"
        " where table_catalog = ? and table_schema = 'ops' and table_name = ?",
        [catalog, relation],
    ).fetchone()
    if not known or not known[0]:
        return []
    return _rows(con, sql.format(ops=f'"{catalog}".ops', main=f'"{catalog}".main'))


def signatures(con: duckdb.DuckDBPyConnection, warehouse_snapshot: Path | None) -> list[dict[str, Any]]:
    """The legal documents sent for signature (``ops.signature_requests``), newest period first:
    document, period, language, state, signers (role and name, in order) and both sha256s."""
    rows = _warehouse_rows(con, warehouse_snapshot, "signature_requests", """
        select document, period, lang, state, signatories, sent_sha256, signed_sha256, updated_at
        from {ops}.signature_requests order by period desc, document, created_at desc""")
    for row in rows:
        people = json.loads(row.pop("signatories") or "[]")
        people.sort(key=lambda p: p.get("order") or 0)
        row["signers"] = [{"role": p.get("role") or "", "name": p.get("name") or ""} for p in people]
    return rows


DECISION_STATES = {"none": N_("undecided"), "pending": N_("decided, to be sent"),
                   "uncertain": N_("sent, answer not confirmed"),
                   "refused": N_("refused by the hub: decide again")}  # fmt: skip


def cancellations(con: duckdb.DuckDBPyConnection, warehouse_snapshot: Path | None) -> list[dict[str, Any]]:
    """Suppliers' cancellation requests still to be answered on the hub (``ops.open_cancellations``,
    FACe), oldest first, with the decision taken and where it stands; empty for a warehouse
    without them."""
    return _warehouse_rows(con, warehouse_snapshot, "open_cancellations", """
        select invoice_id, registry_number, supplier_name, {main}.cents_to_euros(amount_cents) as amount,
               requested_at, requested_reason, decision, comment, decided_by, via,
               decision_status, hub_code, hub_message
        from {ops}.open_cancellations order by requested_at nulls last, invoice_id""")


def period_dict(period: Period) -> dict[str, Any]:
    return {"label": period.label, "start": period.start, "end": period.end, "kind": period.kind}
