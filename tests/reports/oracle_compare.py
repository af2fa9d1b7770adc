"""Figure-by-figure comparison of the dbt marts with the oracle (``oracle.py``).

Each ``compare_*`` returns the disagreements as readable lines (empty: they agree). Money is
compared exactly (to the cent), day figures and interest to within 0.01.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from oracle import Figures

UNKNOWN = "(unknown)"  # the marts' name for an invoice the hub sent with no entity
DAY_TOLERANCE = 0.01
CENT = 0.01


def rows(db: Path, sql: str) -> list[dict]:
    """Rows of ``sql`` on the built reports database."""
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _key(entity: str | None) -> str:
    return UNKNOWN if entity is None else entity


def _close(got: object, expected: Decimal | None, tolerance: float) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return abs(float(got) - float(expected)) < tolerance


def _money(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _diff(where: str, got: dict, expected: dict, days: tuple[str, ...] = ()) -> list[str]:
    out = []
    for name, want in expected.items():
        have = got.get(name)
        ok = _close(have, want, DAY_TOLERANCE) if name in days else have == want
        if not ok:
            out.append(f"{where}: {name} expected {want}, got {have}")
    return out


def compare_pmp(db: Path, figures: Figures, columns: tuple[str, ...] = ()) -> list[str]:
    """§1.1 per entity and the global row(s); ``columns``: extra flag columns to compare."""
    marts = {r["entity_nif"]: r for r in rows(db, "select * from main.pmp")}
    expected = {_key(k): v for k, v in figures.pmp.items()}
    out = []
    for key in sorted(set(marts) | set(expected)):
        want = expected.get(key)
        got = marts.get(key, {})
        if want is None:
            if got.get("paid_count") or got.get("pending_count"):
                out.append(f"pmp {key}: the oracle has no operations, the mart has "
                           f"{got['paid_count']} paid, {got['pending_count']} pending")
            continue
        wanted = {
            "paid_count": want.paid_count, "paid_amount": _money(want.paid_amount),
            "pending_count": want.pending_count, "pending_amount": _money(want.pending_amount),
            "paid_weighted_days": _money(want.paid_weighted_days),
            "pending_weighted_days": _money(want.pending_weighted_days),
            "paid_ratio": want.paid_ratio, "pending_ratio": want.pending_ratio, "pmp": want.pmp,
            "pmp_method": figures.method,
        }  # fmt: skip
        for extra in columns:
            wanted[extra] = getattr(want, extra)
        got = {k: (_money(v) if k.endswith(("_amount", "weighted_days")) else v)
               for k, v in got.items()}  # fmt: skip
        out += _diff(f"pmp {key}", got, wanted, days=("paid_ratio", "pending_ratio", "pmp"))
    return out


def compare_operations(db: Path, figures: Figures) -> list[str]:
    """Each invoice's part in the PMP (``invoice_status``): role, start, days, due date."""
    marts = {r["invoice_id"]: r for r in rows(db, "select * from main.invoice_status")}
    out = []
    for iid, op in sorted(figures.operations.items()):
        got = marts.get(iid)
        if op.left_out == "not_registered":
            continue
        if got is None:
            out.append(f"invoice {iid}: missing from invoice_status")
            continue
        role = op.role if iid in figures.pmp_ids else None
        wanted = {"pmp_role": role, "pmp_days": op.pmp_days if role else None}
        if role:
            wanted |= {"start_on": op.start_on, "is_start_inferred": op.is_start_inferred,
                       "payment_on": op.payment_on}  # fmt: skip
        out += _diff(f"invoice {iid}", got, wanted)
    return out


def compare_morosity(db: Path, figures: Figures) -> list[str]:
    """§2.2 per entity and ALL."""
    marts = {r["entity_nif"]: r for r in rows(db, "select * from main.morosity")}
    expected = {_key(k): v for k, v in figures.morosity.items()}
    out = []
    for key in sorted(set(marts) | set(expected)):
        want, got = expected.get(key), marts.get(key, {})
        if want is None:
            counts = [got.get(f"{k}_count") for k in ("paid_in_time", "paid_late", "pending_in_time",
                                                       "pending_late")]  # fmt: skip
            if any(counts):
                out.append(f"morosity {key}: the oracle has no operations, the mart has {counts}")
            continue
        wanted = {}
        for block in ("paid_in_time", "paid_late", "pending_in_time", "pending_late"):
            wanted[f"{block}_count"] = getattr(want, f"{block}_count")
            wanted[f"{block}_amount"] = _money(getattr(want, f"{block}_amount"))
        for name in ("pmp_days", "pmpp_days", "pmpe_days", "pmppe_days"):
            wanted[name] = getattr(want, name)
        got = {k: (_money(v) if k.endswith("_amount") else v) for k, v in got.items()}
        out += _diff(f"morosity {key}", got, wanted,
                     days=("pmp_days", "pmpp_days", "pmpe_days", "pmppe_days"))  # fmt: skip
    return out


def compare_art10(db: Path, figures: Figures) -> list[str]:
    """§2.3 list: the same invoices, annotation dates and days since annotation."""
    marts = {r["invoice_id"]: r for r in rows(db, "select * from main.pending_recognition")}
    out = []
    for iid in sorted(set(marts) | set(figures.art10)):
        want, got = figures.art10.get(iid), marts.get(iid)
        if want is None:
            out.append(f"art10 {iid}: listed by the mart (annotated {got['annotated_on']}), "
                       "not by the law")
        elif got is None:
            out.append(f"art10 {iid}: not listed by the mart, the law lists it (annotated "
                       f"{want.annotated_on}, three months on {want.three_months_on})")
        else:
            out += _diff(f"art10 {iid}", got, {
                "annotated_on": want.annotated_on, "three_months_on": want.three_months_on,
                "days_since_annotation": want.days_since_annotation,
                "amount": want.amount})  # fmt: skip
    return out


def compare_interest(db: Path, figures: Figures) -> list[str]:
    """§5, §5.2, §5.3 per invoice: due date, accrual, interest to the cent, recovery costs."""
    marts = {r["invoice_id"]: r for r in rows(db, "select * from main.late_interest")}
    out = []
    for iid in sorted(set(marts) | set(figures.interest)):
        want, got = figures.interest.get(iid), marts.get(iid)
        if want is None:
            out.append(f"interest {iid}: in the mart (due {got['due_on']}, to {got['accrual_to']}), "
                       "not late by the law")
            continue
        if got is None:
            out.append(f"interest {iid}: missing from the mart (due {want.due_on}, to "
                       f"{want.accrual_to}, {want.days_late} days)")
            continue
        wanted = {"principal": want.principal, "due_on": want.due_on, "accrual_to": want.accrual_to,
                  "days_late": want.days_late, "recovery_costs": want.recovery_costs,
                  "is_rate_missing": want.is_rate_missing}  # fmt: skip
        out += _diff(f"interest {iid}", got, wanted)
        if not want.is_rate_missing and not _close(got["interest"], want.interest, CENT):
            out.append(f"interest {iid}: interest expected {want.interest:.4f}, got {got['interest']}")
    return out
