"""Seeded random warehouses for the oracle comparisons (``test_rep_oracle.py``).

Each invoice gets a realistic life: registered (sometimes near midnight UTC, on a month end or on
29 February), annotated, conformed (sometimes late, sometimes before the registry entry), recognised,
paid (with or without dataPagament), or rejected; credit notes; states known first by the
accounting system and pushed to the hub days later, or never; quarantined invoices (some resolved);
scope exclusions (declared, and suppliers whose NIF makes them public bodies); an invoice with no
entity. Histories never run past "now", except a few accounting dates after today (a fact the
report must not know yet).
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from rep_builder import MADRID, NO_PAYMENT_DATE, Inv, load

from rcflow.warehouse import Warehouse

ENTITIES = [
    ("P0800101A", "Ajuntament de Generat"),
    ("P0800102B", "Consell Comarcal de Generat"),
    ("Q0800103C", "Consorci de Generat"),
]
NO_ENTITY = None  # the hub gave no receiving entity
FIXED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Features:
    """What a generated warehouse contains beyond plain invoices."""

    quarantine: bool = True  # open (and resolved) quarantine rows
    scope_exclusions: bool = True  # ops.scope_exclusions rows and P/Q/S suppliers
    unknown_entity: bool = False  # invoices the hub sent with no entity
    late_conformity: bool = True  # conformity more than 30 days after annotation
    future_facts: bool = False  # accounting dates after today


@dataclass
class Generated:
    """A written warehouse and what went into it (for messages, not for the oracle)."""

    path: Path
    invoices: list[Inv]
    quarantine: list[tuple[str, str, str]]
    resolved: list[tuple[str, str, str]]
    exclusions: list[tuple[str, str]]
    accounting: list[tuple[str, str, date]] = field(default_factory=list)


def _stamp(rng: random.Random, day: date) -> datetime:
    """A time near ``day``: mostly office hours in Madrid; sometimes 23:30 UTC of the day before
    (already ``day`` in Madrid, whatever the season); sometimes any minute between 21:00 UTC the
    day before and 02:00 UTC (``day`` or the day before in Madrid, by season)."""
    before = day - timedelta(days=1)
    draw = rng.random()
    if draw < 0.10:
        return datetime(before.year, before.month, before.day, 23, 30, tzinfo=UTC)
    if draw < 0.18:
        night = datetime(before.year, before.month, before.day, 21, 0, tzinfo=UTC)
        return night + timedelta(minutes=rng.randint(0, 5 * 60))
    return datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59)), MADRID)


def _dst_days(lo: date, hi: date) -> list[date]:
    """The last Sundays of March and October (Madrid changes its offset) between lo and hi."""
    days = []
    for year in range(lo.year, hi.year + 1):
        for month in (3, 10):
            last = date(year, month, 31)
            sunday = last - timedelta(days=(last.weekday() + 1) % 7)
            if lo <= sunday <= hi:
                days.append(sunday)
    return days


def _special_days(lo: date, hi: date) -> list[date]:
    """Month ends, first days and 29 February between ``lo`` and ``hi``."""
    days = []
    day = lo
    while day <= hi:
        nxt = day + timedelta(days=1)
        if nxt.day == 1 or day.day == 1 or (day.month, day.day) == (2, 29):
            days.append(day)
        day = nxt
    return days


def _amount(rng: random.Random) -> Decimal:
    cents = int(10 ** rng.uniform(3, 6.4))  # 10 € to ~25,000 €
    return Decimal(cents) / 100


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = (date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last))


def edge_cases(period_start: date, as_of: date, *, closed: bool, features: Features) -> list[Inv]:
    """Invoices placed on the boundaries of the rules, relative to the period and its as-of day:
    art. 10 one day past and exactly three months, payment on the due date and one day after,
    late conformity (§5.2), Madrid midnight at the period end, 29 February, and one invoice per
    feature (quarantined and listed, excluded from scope, no entity, a payment dated after today),
    and two invoices issued in 2013."""
    mid = period_start + (as_of - period_start) // 2
    b = "B99999999"
    out = [
        Inv("E-art10-in", ENTITIES[0][0], "1234.56", _months_before(as_of, 3) - timedelta(days=2),
            {"ANNOTATED": _months_before(as_of, 3) - timedelta(days=1)}, supplier_nif=b),
        Inv("E-due-day", ENTITIES[1][0], "2000.00", mid - timedelta(days=32),
            {"ANNOTATED": mid - timedelta(days=31), "ACCEPTED": mid - timedelta(days=30),
             "RECOGNISED": mid - timedelta(days=20), "PAID": mid}, supplier_nif=b),
        Inv("E-due-late", ENTITIES[1][0], "3000.00", mid - timedelta(days=33),
            {"ANNOTATED": mid - timedelta(days=32), "ACCEPTED": mid - timedelta(days=31),
             "RECOGNISED": mid - timedelta(days=20), "PAID": mid}, supplier_nif=b),
        # §5.2: conformity 45 days after registry, paid at 70: in time by conformity + 30,
        # 10 days late by registry + 60.
        Inv("E-late-conformity", ENTITIES[2][0], "50000.00", mid - timedelta(days=70),
            {"ANNOTATED": mid - timedelta(days=69), "ACCEPTED": mid - timedelta(days=25),
             "RECOGNISED": mid - timedelta(days=24), "PAID": mid}, supplier_nif=b),
    ]  # fmt: skip
    exact = _months_before(as_of, 3)
    if _months_before(exact, -3) == as_of:  # three months reached on the as-of day: not listed
        out.append(Inv("E-art10-exact", ENTITIES[0][0], "999.99", exact - timedelta(days=1),
                       {"ANNOTATED": exact}, supplier_nif=b))  # fmt: skip
    for year in (as_of.year, as_of.year - 1):
        leap = date(year, 2, 29) if calendar.isleap(year) else None
        if leap and leap <= as_of and (as_of - leap).days < 200:
            out.append(Inv("E-leap", ENTITIES[0][0], "2900.29", leap, {"ANNOTATED": leap},
                           supplier_nif=b))  # fmt: skip
    if closed:
        end = as_of
        late = datetime(end.year, end.month, end.day, 23, 30, tzinfo=UTC)  # next day in Madrid
        out += [
            Inv("E-midnight-registry", ENTITIES[0][0], "700.00", late, supplier_nif=b),
            Inv("E-midnight-paid", ENTITIES[0][0], "800.00", end - timedelta(days=10),
                {"ANNOTATED": end - timedelta(days=9), "PAID": late},
                payment_date=NO_PAYMENT_DATE, supplier_nif=b),
        ]  # fmt: skip
    # Issued before 2014 (§4 case 20): out of the PMP only; never conformed, so their interest
    # runs from registry + 60 (§5.2), across every half-year since.
    old = date(2013, 12, 27)
    out += [
        Inv("E-issued-2013-paid", ENTITIES[0][0], "1000.00", old,
            {"ANNOTATED": old + timedelta(days=1), "PAID": mid}, issue_date=date(2013, 12, 20),
            supplier_nif=b),
        Inv("E-issued-2013-pending", ENTITIES[1][0], "2000.00", old,
            {"ANNOTATED": old + timedelta(days=1)}, supplier_nif=b),
    ]  # fmt: skip
    # Bad data: paid before its conformity (negative days under RD 1040/2017, flagged).
    out.append(Inv("E-paid-before-conformity", ENTITIES[2][0], "1500.00", mid - timedelta(days=10),
                   {"PAID": mid - timedelta(days=5), "ACCEPTED": mid - timedelta(days=2)},
                   supplier_nif=b))  # fmt: skip
    # Instants around the two nights Madrid changes its offset (and the night before): the
    # registry and the payment (no dataPagament: the state's instant decides the day).
    for n, sunday in enumerate(_dst_days(as_of - timedelta(days=400), as_of)):
        for m, (shift, hour, minute) in enumerate([(-1, 22, 30), (-1, 23, 30), (0, 0, 30), (0, 0, 59),
                                                   (0, 1, 0), (0, 1, 30), (0, 2, 30), (0, 21, 59),
                                                   (0, 22, 0), (0, 22, 30), (0, 23, 30)]):
            day = sunday + timedelta(days=shift)
            instant = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            paid = instant + timedelta(days=(as_of - sunday).days // 2)
            states = {"ANNOTATED": instant + timedelta(hours=1)}
            if m % 2 == 0 and paid.date() < as_of:
                states["PAID"] = paid
            out.append(Inv(f"E-dst-{n}-{m}", ENTITIES[m % 3][0], f"{100 + 7 * m}.{n:02d}", instant,
                           states, payment_date=NO_PAYMENT_DATE, supplier_nif=b))  # fmt: skip
    if features.quarantine:
        annotated = _months_before(as_of, 4)
        out.append(Inv("E-quarantined", ENTITIES[1][0], "4321.00", annotated,
                       {"ANNOTATED": annotated}, supplier_nif=b))  # fmt: skip
    if features.scope_exclusions:
        out += [
            Inv("E-public-supplier", ENTITIES[2][0], "6000.00", mid - timedelta(days=50),
                {"ANNOTATED": mid - timedelta(days=49)}, supplier_nif="Q0899999J"),
            Inv("E-embargo", ENTITIES[2][0], "6500.00", mid - timedelta(days=50),
                {"ANNOTATED": mid - timedelta(days=49)}, supplier_nif=b),
        ]  # fmt: skip
    if features.unknown_entity:
        out.append(Inv("E-no-entity", NO_ENTITY, "5555.55", mid - timedelta(days=40),
                       {"ANNOTATED": mid - timedelta(days=39)}, supplier_nif=b))  # fmt: skip
    return out


def generate(
    path: Path,
    *,
    seed: int,
    window: tuple[date, date],
    today: date,
    period: tuple[date, date],
    count: int = 120,
    features: Features = Features(),
) -> Generated:
    """Write a warehouse at ``path`` with ``count`` invoices registered within ``window``."""
    rng = random.Random(seed)
    lo, hi = window
    special = _special_days(lo, hi)
    invoices: list[Inv] = []
    accounting: list[tuple[str, str, date]] = []
    span = (hi - lo).days

    def known(day: date) -> bool:
        return day <= today

    for n in range(count):
        iid = f"G{seed}-{n:04d}"
        reg_day = rng.choice(special) if special and rng.random() < 0.15 else lo + timedelta(
            days=rng.randint(0, span))
        if not known(reg_day):
            continue
        entity = rng.choice(ENTITIES)[0]
        if features.unknown_entity and rng.random() < 0.04:
            entity = NO_ENTITY
        credit = rng.random() < 0.04
        amount = -_amount(rng) / 10 if credit else _amount(rng)
        supplier = f"B{rng.randint(10**7, 10**8 - 1)}"
        if features.scope_exclusions and rng.random() < 0.04:
            supplier = rng.choice("PQS") + f"{rng.randint(10**6, 10**7 - 1)}A"

        true: dict[str, date] = {}
        d = reg_day
        if rng.random() < 0.95:
            d = true["ANNOTATED"] = reg_day + timedelta(days=rng.choice([0, 0, 1, 2, 3, 6]))
        if rng.random() < 0.06 and not credit:
            true["REJECTED"] = d + timedelta(days=rng.randint(0, 12))
        else:
            r = rng.random()
            if r < 0.05:
                true["ACCEPTED"] = reg_day - timedelta(days=rng.randint(1, 8))  # §4 case 4
            elif r < 0.78 and not credit:
                late = features.late_conformity and rng.random() < 0.2
                true["ACCEPTED"] = d + timedelta(days=rng.randint(31, 110) if late
                                                 else rng.randint(0, 28))  # fmt: skip
            base = max([d, *[v for k, v in true.items() if k == "ACCEPTED"]])
            if rng.random() < (0.8 if "ACCEPTED" in true else 0.35):
                base = true["RECOGNISED"] = base + timedelta(days=rng.randint(0, 20))
            if rng.random() < (0.75 if "RECOGNISED" in true else 0.15):
                true["PAID"] = base + timedelta(days=rng.randint(0, 55))

        true = {state: day for state, day in true.items() if known(day)}  # not happened yet
        hub: dict[str, date | datetime] = {}
        payment_date = None
        for state, day in true.items():
            route = rng.random()
            pushed = day + timedelta(days=rng.randint(1, 15))
            if state == "PAID":
                if route < 0.12:  # accounting only: the hub does not show it yet
                    accounting.append((iid, state, day))
                    continue
                if route < 0.22:  # no dataPagament, the accounting date is there
                    accounting.append((iid, state, day))
                    hub[state] = _stamp(rng, min(pushed, today))
                    payment_date = NO_PAYMENT_DATE
                elif route < 0.27:  # no dataPagament, no accounting: the hub's date (flagged)
                    hub[state] = _stamp(rng, day)
                    payment_date = NO_PAYMENT_DATE
                else:
                    hub[state] = _stamp(rng, min(pushed, today) if route < 0.6 else day)
                    payment_date = day
                    if route < 0.6:
                        accounting.append((iid, state, day))
                continue
            if route < 0.55:
                hub[state] = _stamp(rng, day)
            elif route < 0.85:  # dated by accounting, pushed days later (the push time)
                accounting.append((iid, state, day))
                hub[state] = _stamp(rng, min(pushed, today))
            else:  # accounting only
                accounting.append((iid, state, day))
        if features.future_facts and rng.random() < 0.04:
            accounting.append((iid, "RECOGNISED" if "RECOGNISED" not in true else "PAID",
                               today + timedelta(days=rng.randint(1, 20))))  # fmt: skip
        invoices.append(Inv(iid, entity, amount, _stamp(rng, reg_day), hub,
                            payment_date=payment_date, supplier_nif=supplier,
                            invoice_class="OR" if credit else "OO",
                            reject_reason="Duplicada" if "REJECTED" in true else None))  # fmt: skip

    start, end = period
    edges = edge_cases(start, min(end, today), closed=end < today, features=features)
    invoices += edges
    if features.future_facts:
        invoices.append(Inv("E-future-paid", ENTITIES[0][0], "3100.00", start - timedelta(days=5),
                            {"ANNOTATED": start - timedelta(days=4)}, supplier_nif="B99999999"))
        accounting.append(("E-future-paid", "PAID", today + timedelta(days=3)))
        # the hub shows PAID today with a payment date after today (scheduled)
        invoices.append(Inv("E-future-dataPagament", ENTITIES[1][0], "3200.00",
                            start - timedelta(days=6), {"ANNOTATED": start - timedelta(days=5),
                                                        "PAID": today},
                            payment_date=today + timedelta(days=2), supplier_nif="B99999999"))
        # a rejection only the accounting system knows, dated after today
        invoices.append(Inv("E-future-rejection", ENTITIES[2][0], "3300.00",
                            start - timedelta(days=7), {"ANNOTATED": start - timedelta(days=6)},
                            supplier_nif="B99999999"))
        accounting.append(("E-future-rejection", "REJECTED", today + timedelta(days=1)))
    # a rejection only the accounting system knows (the hub was never told)
    invoices.append(Inv("E-rejected-in-accounting", ENTITIES[0][0], "3400.00",
                        start - timedelta(days=8), {"ANNOTATED": start - timedelta(days=7)},
                        supplier_nif="B99999999"))
    accounting.append(("E-rejected-in-accounting", "REJECTED", start - timedelta(days=3)))
    # one accounting event per (invoice, state): keep the first written
    seen: set[tuple[str, str]] = set()
    accounting = [e for e in accounting if (e[0], e[1]) not in seen and not seen.add((e[0], e[1]))]

    quarantine, resolved, exclusions = [], [], []
    randoms = [i for i in invoices if not i.invoice_id.startswith("E-")]
    if features.quarantine:
        quarantine.append(("E-quarantined", "facturae", "doctype_forbidden"))
        for inv in rng.sample(randoms, k=max(2, len(randoms) // 40)):
            reason = rng.choice([("facturae", "doctype_forbidden"), ("quality", "amount_mismatch"),
                                 ("quality", "nif_malformed")])  # fmt: skip
            (resolved if rng.random() < 0.25 else quarantine).append((inv.invoice_id, *reason))
    if features.scope_exclusions:
        exclusions.append(("E-embargo", "embargo"))
        for inv in rng.sample(randoms, k=max(2, len(randoms) // 30)):
            exclusions.append((inv.invoice_id, rng.choice(["embargo", "set_off", "supplier_fund",
                                                            "public_body"])))  # fmt: skip

    load(path, invoices, entities=ENTITIES, quarantine=quarantine + resolved,
         accounting=accounting)  # fmt: skip
    with Warehouse(path, lock_timeout=30) as wh:
        for iid, stage, reason in resolved:
            wh.con.execute("update ops.quarantine set resolved_at = ? where invoice_id = ? and "
                           "stage = ? and reason = ?", [FIXED, iid, stage, reason])  # fmt: skip
        if exclusions:
            rows = [{"invoice_id": iid, "reason": reason, "note": None, "import_id": "gen",
                     "line_no": n, "recorded_at": FIXED}
                    for n, (iid, reason) in enumerate(exclusions, start=1)]  # fmt: skip
            wh.con.register("_exclusions", pa.Table.from_pylist(rows))
            wh.con.execute("insert into ops.scope_exclusions (invoice_id, reason, note, import_id, "
                           "line_no, recorded_at) select * from _exclusions")
            wh.con.unregister("_exclusions")
    return Generated(path, invoices, quarantine, resolved, exclusions, accounting)
