"""Figure-by-figure comparison of the dbt marts with the oracle (``oracle.py``).

Each ``compare_*`` returns the disagreements as readable lines (empty: they agree). Everything
is compared exactly as published: money to the cent, day ratios and interest as the oracle's
exact figure rounded half away from zero to 2 decimals.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
from oracle import ALL, Figures, global_key

UNKNOWN = "(unknown)"  # the marts' name for an invoice the hub sent with no entity


def rows(db: Path, sql: str) -> list[dict]:
    """Rows of ``sql`` on the built reports database."""
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _key(entity: str | None) -> str:
    return UNKNOWN if entity is None else entity


def _money(value: object) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _diff(where: str, got: dict, expected: dict, days: tuple[str, ...] = ()) -> list[str]:
    out = []
    for name, want in expected.items():
        have = got.get(name)
        ok = have == (_cents(want) if name in days and want is not None else want)
        if not ok:
            out.append(f"{where}: {name} expected {want}, got {have}")
    return out


def _row_key(row: dict) -> str:
    """An entity's NIF, or a global row's key (``oracle.global_key`` of its administration)."""
    if row["entity_nif"] == ALL:
        return global_key(row.get("administration_id"))
    return row["entity_nif"]


def compare_pmp(db: Path, figures: Figures, columns: tuple[str, ...] = ()) -> list[str]:
    """§1.1 per entity and the global row(s); ``columns``: extra flag columns to compare."""
    marts = {_row_key(r): r for r in rows(db, "select * from main.pmp")}
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
            if extra.endswith("_amount"):
                wanted[extra] = _money(wanted[extra])
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
    marts = {_row_key(r): r for r in rows(db, "select * from main.morosity")}
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
                  "is_rate_missing": want.is_rate_missing, "unrated_days": want.unpublished_days,
                  "unrated_principal": want.unpublished_principal}  # fmt: skip
        out += _diff(f"interest {iid}", got, wanted)
        for name in ("interest", "total_claimable"):  # §5.3: never NULL, to the cent
            if got.get(name) != _cents(getattr(want, name)):
                out.append(f"interest {iid}: {name} expected {getattr(want, name):.4f}, "
                           f"got {got.get(name)}")
    return out


def compare_trend(db: Path, by_period: dict[str, Figures]) -> list[str]:
    """The PMP series (``pmp_trend``): each period as the oracle computes it on its own."""
    marts: dict[str, dict[str, dict]] = {}
    for r in rows(db, "select * from main.pmp_trend"):
        marts.setdefault(r["period"], {})[_row_key(r)] = r
    out = []
    for label, figures in by_period.items():
        got = marts.get(label)
        if got is None:
            out.append(f"trend {label}: missing")
            continue
        for key in sorted(set(got) | {_key(k) for k in figures.pmp}):
            want = figures.pmp.get(None if key == UNKNOWN else key)
            have = got.get(key, {})
            if want is None:
                if have.get("paid_count") or have.get("pending_count"):
                    out.append(f"trend {label} {key}: the oracle has no operations, the mart has "
                               f"{have['paid_count']} paid, {have['pending_count']} pending")
                continue
            wanted = {"paid_count": want.paid_count, "pending_count": want.pending_count,
                      "paid_amount": _money(want.paid_amount),
                      "pending_amount": _money(want.pending_amount), "pmp": want.pmp,
                      "paid_ratio": want.paid_ratio, "pending_ratio": want.pending_ratio,
                      "pmp_method": figures.method}  # fmt: skip
            have = {k: (_money(v) if k.endswith("_amount") else v) for k, v in have.items()}
            out += _diff(f"trend {label} {key}", have, wanted,
                         days=("pmp", "paid_ratio", "pending_ratio"))  # fmt: skip
    return out


def compare_flags(db: Path, figures: Figures) -> list[str]:
    """What every figure says about itself: as-of day and provisional status (§1.5), the
    operations with open findings (§4.1) and those out of scope (§3.1) behind each PMP and
    morosity row, the 30-day verdict (current method only, §1.3), quarantined invoices flagged
    on the art. 10 list and the interest rows."""
    status = {"as_of_on": figures.as_of, "is_provisional": figures.is_provisional}
    flags = ("findings_count", "findings_amount", "scope_excluded_count", "scope_excluded_amount")
    out = []
    pmp = {_row_key(r): r for r in rows(db, "select * from main.pmp")}
    for key, want in figures.pmp.items():
        got = pmp.get(_key(key), {})
        wanted = {**status, **{f: getattr(want, f) for f in flags},
                  "is_within_30_days": figures.is_within_30_days(key)}  # fmt: skip
        wanted = {k: (_money(v) if k.endswith("_amount") else v) for k, v in wanted.items()}
        got = {k: (_money(v) if k.endswith("_amount") else v) for k, v in got.items()}
        out += _diff(f"pmp {_key(key)}", got, wanted)
    morosity = {_row_key(r): r for r in rows(db, "select * from main.morosity")}
    for key, want in figures.morosity.items():
        got = {k: (_money(v) if k.endswith("_amount") else v)
               for k, v in morosity.get(_key(key), {}).items()}  # fmt: skip
        wanted = {**status, **{f: getattr(want, f) for f in flags}}
        wanted = {k: (_money(v) if k.endswith("_amount") else v) for k, v in wanted.items()}
        out += _diff(f"morosity {_key(key)}", got, wanted)
    for table, expected in (("pending_recognition", figures.art10), ("late_interest", figures.interest)):
        marts = {r["invoice_id"]: r for r in rows(db, f"select * from main.{table}")}
        for iid, want in expected.items():
            if iid in marts:
                out += _diff(f"{table} {iid}", marts[iid],
                             {**status, "is_quarantined": want.is_quarantined})  # fmt: skip
    return out


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def compare_headline(report_json: Path, figures: Figures) -> list[str]:
    """The figures printed on the page (``report.json``): the global PMP, its totals, the art. 4.3
    figure, the art. 10 and interest totals (sums of the per-invoice figures rounded to the cent,
    so the page adds up), the as-of day and whether it is provisional."""
    meta = json.loads(report_json.read_text(encoding="utf-8"))
    head = meta.get("headline", {})
    out = _diff("report.json", meta, {"as_of": figures.as_of.isoformat(),
                                      "is_provisional": figures.is_provisional})  # fmt: skip
    wanted: dict[str, object] = {}
    total = figures.pmp.get(ALL)
    if total is not None:
        wanted |= {"pmp_global": total.pmp, "paid_count": total.paid_count,
                   "paid_amount": total.paid_amount, "pending_count": total.pending_count,
                   "pending_amount": total.pending_amount}  # fmt: skip
    late = figures.morosity.get(ALL)
    if late is not None:
        wanted |= {"paid_late_count": late.paid_late_count, "paid_late_amount": late.paid_late_amount,
                   "pending_late_count": late.pending_late_count,
                   "pending_late_amount": late.pending_late_amount}  # fmt: skip
    rows_ = figures.interest.values()
    interest = sum((_cents(r.interest) for r in rows_), Decimal(0))
    wanted |= {
        "art10_count": len(figures.art10),
        "art10_amount": sum((r.amount for r in figures.art10.values()), Decimal(0)) or None,
        "late_interest_count": len(rows_), "late_interest_amount": interest,
        "recovery_costs_amount": sum((r.recovery_costs for r in rows_), Decimal(0)),
        "late_interest_total_claimable": interest + sum((r.recovery_costs for r in rows_), Decimal(0)),
        "late_interest_unrated_count": sum(r.is_rate_missing for r in rows_),
        "late_interest_unrated_days": sum(r.unpublished_days for r in rows_),
        "late_interest_unrated_principal": sum((r.unpublished_principal for r in rows_), Decimal(0)),
    }  # fmt: skip
    if figures.is_provisional:  # §1.5 / issue 12: the page says so on its face
        page = (report_json.parent / "report.html").read_text(encoding="utf-8")
        stamp = f"provisional, as of {figures.as_of:%d/%m/%Y}"
        if stamp not in page and stamp not in meta.get("status", ""):
            out.append(f"report: neither report.html nor report.json says {stamp!r}")
        elif stamp not in page:
            out.append(f"report.html does not say {stamp!r}")
    for name, want in wanted.items():
        got = head.get(name)
        if isinstance(want, Decimal) and want is not None:  # as printed: to the cent
            ok = got is not None and Decimal(str(got)) == _cents(want)
        else:
            ok = got == want
        if not ok:
            out.append(f"report.json headline: {name} expected {want}, got {got}")
    return out
