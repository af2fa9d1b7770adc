"""An independent computation of the legal figures, straight from ``compliance-rules.md``.

This module is the second implementation of the law that the report tests compare the dbt marts
with. It reads only the warehouse's documented views (``main.invoices``, ``main.invoice_states``,
``main.quarantine``, ``main.scope_exclusions``) and the accounting events (``ops.accounting_events``,
which has no view), and computes everything in plain Python with ``date`` and ``Decimal``. It
shares no code and no SQL with ``reports/`` or ``rcflow/reports``: a rule wrong in both would have to
be written wrong twice.

"§" references are to ``shared/domain/compliance-rules.md``; "README" is ``reports/README.md``
(the documented readings where the law leaves a choice: effective dates, credit notes).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import duckdb

MADRID = ZoneInfo("Europe/Madrid")
ALL = "ALL"
NEW_METHOD_FROM = date(2018, 4, 1)  # §1.2 timing, §4 case 19
PMP_SCOPE_FROM = date(2014, 1, 1)  # §3.1, §4 case 20: invoices issued since 1-1-2014
PUBLIC_BODY_PREFIXES = ("P", "Q", "S")  # issue 12: default rule, the supplier is a public body
RECOVERY_COSTS = Decimal("40.00")  # §5 art. 8
DAYS_IN_YEAR = Decimal(365)  # §5 computation convention [U]

# §5.1: (first day, last day, legal rate %). Half-years absent here have no published rate (§5.3).
LEGAL_RATES: tuple[tuple[date, date, Decimal], ...] = (
    (date(2013, 1, 1), date(2013, 2, 23), Decimal("7.75")),
    (date(2013, 2, 24), date(2013, 6, 30), Decimal("8.75")),
    (date(2013, 7, 1), date(2013, 12, 31), Decimal("8.50")),
    (date(2014, 1, 1), date(2014, 6, 30), Decimal("8.25")),
    (date(2014, 7, 1), date(2014, 12, 31), Decimal("8.15")),
    (date(2015, 1, 1), date(2015, 6, 30), Decimal("8.05")),
    (date(2015, 7, 1), date(2015, 12, 31), Decimal("8.05")),
    (date(2016, 1, 1), date(2016, 6, 30), Decimal("8.05")),
    *((date(y, m, 1), date(y, m + 5, 30 if m == 1 else 31), Decimal("8.00"))
      for y in range(2016, 2023) for m in (1, 7) if (y, m) != (2016, 1)),
    (date(2023, 1, 1), date(2023, 6, 30), Decimal("10.50")),
    (date(2023, 7, 1), date(2023, 12, 31), Decimal("12.00")),
    (date(2024, 1, 1), date(2024, 6, 30), Decimal("12.50")),
    (date(2024, 7, 1), date(2024, 12, 31), Decimal("12.25")),
    (date(2025, 1, 1), date(2025, 6, 30), Decimal("11.15")),
    (date(2025, 7, 1), date(2025, 12, 31), Decimal("10.15")),
    (date(2026, 1, 1), date(2026, 6, 30), Decimal("10.15")),
)  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """The legal reading the oracle applies; the defaults are the law as issue 12 states it.

    ``legacy()`` is the reading the marts implemented before issue 12 (kept to show that the
    only differences with the law are the ones issue 12 names).
    """

    quarantine: Literal["count", "exclude"] = "count"  # §4.1 (opt-in: exclude)
    scope_exclusions: bool = True  # §3.1, §4 cases 13-14: art. 3 exclusions leave the PMP
    public_body_prefix: bool = True  # issue 12: a P/Q/S supplier NIF is a public body
    as_of_today: bool = True  # §1.5: a running period is measured as of today
    interest_due: Literal["capped", "conformity_30", "registry_30"] = "capped"  # §5.2
    pool_unknown_entity: bool = False  # issue 12: never pool an unknown entity
    administrations: Mapping[str, tuple[str, ...]] | None = None  # declared: id -> entity NIFs
    added_rates: Mapping[str, Decimal] = field(default_factory=dict)  # §5.3: "2027-H1" -> rate %

    @classmethod
    def legacy(cls) -> Reading:
        return cls(quarantine="exclude", scope_exclusions=False, as_of_today=False,
                   interest_due="conformity_30", pool_unknown_entity=True)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The facts, as the warehouse's views hold them
# --------------------------------------------------------------------------------------------


@dataclass
class Invoice:
    """One hub invoice with every dated fact the rules use (Madrid dates, §4 case 18)."""

    invoice_id: str
    entity_nif: str | None
    supplier_nif: str | None
    amount: Decimal
    is_quarantined: bool
    scope_exclusion: str | None  # ops.scope_exclusions reason, if the accounting system gave one
    registered_on: date | None
    issue_date: date | None = None
    hub: dict[str, date] = field(default_factory=dict)  # state -> Madrid date of its state_at
    payment_date: date | None = None  # dataPagament of the hub's PAID state
    accounting: dict[str, date] = field(default_factory=dict)  # state -> accounting event date

    def effective(self, state: str) -> date | None:
        """The date of the legal fact (README "Dates"): REGISTERED from the registry entry; PAID
        from dataPagament, else the accounting PAID date, else the hub's state date; any other
        state from the accounting system's date, else the hub's state date."""
        if state == "REGISTERED":
            return self.registered_on
        if state == "PAID":
            return self.payment_date or self.accounting.get("PAID") or self.hub.get("PAID")
        return self.accounting.get(state) or self.hub.get(state)

    @property
    def is_credit_note(self) -> bool:
        """§4 case 12, README reading ``credit_notes=exclude_and_flag``: a negative total."""
        return self.amount < 0

    def excluded_from_scope(self, reading: Reading = Reading()) -> str | None:
        """Why the invoice is outside the PMP scope, if it is: an RD 635/2014 art. 3 exclusion
        (§3.1, §4 cases 13-14) the accounting system declared (its reason stands), or the
        default rule that a supplier whose NIF starts with P, Q or S is a public body; else
        issued before 2014 (§4 case 20; with no issue date, registered before it)."""
        if reading.scope_exclusions:
            if self.scope_exclusion:
                return self.scope_exclusion
            nif = (self.supplier_nif or "").upper()
            if reading.public_body_prefix and nif.startswith(PUBLIC_BODY_PREFIXES):
                return "public_body"
        issued = self.issue_date or self.registered_on
        if issued is not None and issued < PMP_SCOPE_FROM:
            return "issued_before_2014"  # §4 case 20: outside the PMP (not the Ley 3/2004)
        return None


def _madrid(instant: datetime | None) -> date | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(MADRID).date()


def read_warehouse(path: Path) -> list[Invoice]:
    """Every invoice of the warehouse at ``path``, read from its views (read-only)."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            "select invoice_id, entity_nif, supplier_nif, amount, registry_date, issue_date"
            " from main.invoices"
        ).fetchall()
        quarantined = {r[0] for r in con.execute(
            "select invoice_id from main.quarantine where resolved_at is null").fetchall()}
        exclusions = dict(con.execute(
            "select invoice_id, reason from main.scope_exclusions").fetchall())
        states = con.execute(
            "select invoice_id, state, state_at, registry_at, payment_date from main.invoice_states"
            " order by invoice_id, seq").fetchall()
        events = con.execute(
            "select invoice_id, state, event_date from ops.accounting_events").fetchall()
    invoices = {
        iid: Invoice(iid, entity, supplier, amount, iid in quarantined, exclusions.get(iid),
                     _madrid(registry), issue)
        for iid, entity, supplier, amount, registry, issue in rows
    }  # fmt: skip
    for iid, state, state_at, registry_at, payment_date in states:
        invoice = invoices.get(iid)
        if invoice is None:
            continue
        day = _madrid(state_at)
        if state == "REGISTERED":
            # The registry entry of the hub history is the legal register date (§7).
            invoice.registered_on = _madrid(registry_at) or day or invoice.registered_on
        if day is not None and (state not in invoice.hub or day < invoice.hub[state]):
            invoice.hub[state] = day
        if state == "PAID" and payment_date is not None:
            invoice.payment_date = payment_date
    for iid, state, event_date in events:
        if iid in invoices:
            invoices[iid].accounting[state] = event_date
    return sorted(invoices.values(), key=lambda i: i.invoice_id)


# --------------------------------------------------------------------------------------------
# One invoice as of a day
# --------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Calendar months (§4 case 21): 15-12 + 3 = 15-03; a missing day is the month's last."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Operation:
    """One invoice's part in the period's figures, as of the as-of day."""

    invoice: Invoice
    role: Literal["paid", "pending"] | None  # §1.1 paid(P) / pending(P); None: not in them
    left_out: str | None  # why it is not an operation: rejected, credit_note, quarantined
    scope: str | None  # RD 635/2014 art. 3 exclusion: out of the PMP (public_body: of all, §3.2)
    start_on: date | None  # §1.2 (new method) start of the count
    is_start_inferred: bool  # §4 cases 5 and 6: registry start for lack of conformity
    pmp_start_on: date | None  # the start the period's method uses (§1.3: registry + 30)
    pmp_days: int | None  # §1.1 dias_pago / dias_pendientes
    legal_due_on: date | None  # §1.4, §4 case 23: start + 30 (morosity)
    interest_due_on: date | None  # §5.2
    payment_on: date | None  # effective PAID date, if known by the as-of day
    annotated_on: date | None
    recognised_on: date | None
    rejected_on: date | None


def operation(invoice: Invoice, start: date, as_of: date, method: str, reading: Reading) -> Operation:
    """Classify ``invoice`` for the period ``start``..``as_of`` (facts dated after ``as_of``
    are unknown: §1.5, §4 case 7)."""

    def known(state: str) -> date | None:
        day = invoice.effective(state)
        return day if day is not None and day <= as_of else None

    registered = known("REGISTERED")
    accepted, paid, rejected = known("ACCEPTED"), known("PAID"), known("REJECTED")
    recognised, annotated = known("RECOGNISED"), known("ANNOTATED")
    if registered is None:
        return Operation(invoice, None, "not_registered", None, None, False, None, None, None,
                         None, paid, annotated, recognised, rejected)  # fmt: skip
    # §1.2 + §4 cases 1, 4, 5, 6: conformity if approved by the as-of day and not before the
    # registry entry; otherwise the registry entry (flagged inferred when there is no conformity).
    start_on = accepted if accepted is not None and accepted >= registered else registered
    inferred = accepted is None
    # §1.3: before 04/2018 the count started 30 days after the registry entry.
    pmp_start = start_on if method == "rd1040_2017" else registered + timedelta(days=30)
    legal_due = start_on + timedelta(days=30)
    interest_due = {  # §5.2: the courts' reading, the opt-in "conformity + 30", the CJEU's
        # 30 days to approve, 30 to pay: with no conformity by the as-of day, registry + 60
        "capped": registered + timedelta(days=60) if accepted is None
        else min(legal_due, registered + timedelta(days=60)),
        "conformity_30": legal_due,
        "registry_30": registered + timedelta(days=30),
    }[reading.interest_due]
    left_out = None
    if rejected is not None and (paid is None or paid > rejected):
        left_out = "rejected"  # §4 case 9 (a rejection after a material payment undoes nothing)
        paid = None
    elif invoice.is_credit_note:
        left_out = "credit_note"  # §4 case 12 (README default)
    elif invoice.is_quarantined and reading.quarantine == "exclude":
        left_out = "quarantined"  # §4.1: only under the opt-in reading
    role: Literal["paid", "pending"] | None = None
    days = None
    if left_out is None:
        if paid is None:
            role, days = "pending", (as_of - pmp_start).days  # §1.1, §1.5
        elif paid >= start:
            role, days = "paid", (paid - pmp_start).days  # §1.1, §4 case 8
    return Operation(invoice, role, left_out, invoice.excluded_from_scope(reading), start_on,
                     inferred, pmp_start, days, legal_due, interest_due, paid, annotated,
                     recognised, rejected)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The figures
# --------------------------------------------------------------------------------------------


@dataclass
class PmpRow:
    """§1.1 / §2.1 for one entity (or an administration's global row)."""

    paid_count: int = 0
    paid_amount: Decimal = Decimal(0)
    paid_weighted_days: Decimal = Decimal(0)
    pending_count: int = 0
    pending_amount: Decimal = Decimal(0)
    pending_weighted_days: Decimal = Decimal(0)
    start_inferred_count: int = 0
    findings_count: int = 0  # §4.1: counted operations resting on invoices with open findings
    findings_amount: Decimal = Decimal(0)
    scope_excluded_count: int = 0  # §3.1: operations left out by an art. 3 exclusion
    scope_excluded_amount: Decimal = Decimal(0)

    def exclude(self, op: Operation) -> None:
        self.scope_excluded_count += 1
        self.scope_excluded_amount += op.invoice.amount

    def add(self, op: Operation) -> None:
        weight = op.invoice.amount * op.pmp_days
        if op.role == "paid":
            self.paid_count += 1
            self.paid_amount += op.invoice.amount
            self.paid_weighted_days += weight
        else:
            self.pending_count += 1
            self.pending_amount += op.invoice.amount
            self.pending_weighted_days += weight
        self.start_inferred_count += op.is_start_inferred
        if op.invoice.is_quarantined:
            self.findings_count += 1
            self.findings_amount += op.invoice.amount

    @property
    def paid_ratio(self) -> Decimal | None:
        """§1.1 ratio_pagadas; n/a (None) without paid operations (§1.1 edge cases)."""
        return self.paid_weighted_days / self.paid_amount if self.paid_amount else None

    @property
    def pending_ratio(self) -> Decimal | None:
        return self.pending_weighted_days / self.pending_amount if self.pending_amount else None

    @property
    def pmp(self) -> Decimal | None:
        """§1.1: the amount-weighted mean over paid and pending operations together."""
        total = self.paid_amount + self.pending_amount
        return (self.paid_weighted_days + self.pending_weighted_days) / total if total else None


@dataclass
class MorosityRow:
    """§2.2, the Ministry template's blocks for one entity (or ALL)."""

    paid_in_time_count: int = 0
    paid_in_time_amount: Decimal = Decimal(0)
    paid_late_count: int = 0
    paid_late_amount: Decimal = Decimal(0)
    pending_in_time_count: int = 0
    pending_in_time_amount: Decimal = Decimal(0)
    pending_late_count: int = 0
    pending_late_amount: Decimal = Decimal(0)
    findings_count: int = 0  # §4.1, as in PmpRow
    findings_amount: Decimal = Decimal(0)
    scope_excluded_count: int = 0  # operations out of the morosity report (public bodies, §3.2)
    scope_excluded_amount: Decimal = Decimal(0)
    _paid_days: Decimal = Decimal(0)
    _pending_days: Decimal = Decimal(0)
    _paid_excess: Decimal = Decimal(0)
    _pending_excess: Decimal = Decimal(0)

    def exclude(self, op: Operation) -> None:
        self.scope_excluded_count += 1
        self.scope_excluded_amount += op.invoice.amount

    def add(self, op: Operation, as_of: date) -> None:
        amount = op.invoice.amount
        if op.invoice.is_quarantined:
            self.findings_count += 1
            self.findings_amount += amount
        if op.role == "paid":
            self._paid_days += amount * (op.payment_on - op.start_on).days
            if op.payment_on <= op.legal_due_on:  # §4 case 23: on the due date is in time
                self.paid_in_time_count += 1
                self.paid_in_time_amount += amount
            else:
                self.paid_late_count += 1
                self.paid_late_amount += amount
                self._paid_excess += amount * (op.payment_on - op.legal_due_on).days
        else:
            self._pending_days += amount * (as_of - op.start_on).days
            if as_of <= op.legal_due_on:
                self.pending_in_time_count += 1
                self.pending_in_time_amount += amount
            else:
                self.pending_late_count += 1  # the art. 4.3 figure
                self.pending_late_amount += amount
                self._pending_excess += amount * (as_of - op.legal_due_on).days

    @staticmethod
    def _mean(weighted: Decimal, amount: Decimal) -> Decimal | None:
        return weighted / amount if amount else None

    @property
    def pmp_days(self) -> Decimal | None:
        return self._mean(self._paid_days, self.paid_in_time_amount + self.paid_late_amount)

    @property
    def pmpp_days(self) -> Decimal | None:
        return self._mean(self._pending_days, self.pending_in_time_amount + self.pending_late_amount)

    @property
    def pmpe_days(self) -> Decimal | None:
        return self._mean(self._paid_excess, self.paid_late_amount)

    @property
    def pmppe_days(self) -> Decimal | None:
        return self._mean(self._pending_excess, self.pending_late_amount)


@dataclass(frozen=True)
class Art10Row:
    """§2.3 / §6.6: an invoice annotated more than three calendar months ago, unrecognised."""

    invoice_id: str
    entity_nif: str | None
    amount: Decimal
    annotated_on: date
    three_months_on: date
    days_since_annotation: int
    is_quarantined: bool  # §4.1: listed, flagged


@dataclass(frozen=True)
class InterestRow:
    """§5, §5.2, §5.3: one invoice paid late in the period or pending past its due date."""

    invoice_id: str
    entity_nif: str | None
    principal: Decimal
    due_on: date
    accrual_to: date
    days_late: int
    interest: Decimal  # exact (not rounded), over the days with a published rate
    recovery_costs: Decimal  # art. 8: stands whatever the rate
    unpublished_days: int  # §5.3: days in half-years without a rate
    unpublished_principal: Decimal  # the principal of those days (0 when none)
    is_quarantined: bool  # §4.1: flagged

    @property
    def total_claimable(self) -> Decimal:
        """Interest on the published days plus the recovery costs (§5.3: never NULL)."""
        return self.interest + self.recovery_costs

    @property
    def is_rate_missing(self) -> bool:
        return self.unpublished_days > 0


def legal_rate(day: date, added: Mapping[str, Decimal] | None = None) -> Decimal | None:
    """§5.1 legal rate (percent) in force on ``day``; None when not yet published (§5.3).
    ``added``: rates the user declared per half-year ("2027-H1"), which win over the table."""
    half_year = f"{day.year}-H{1 if day.month <= 6 else 2}"
    if added and half_year in added:
        return added[half_year]
    for first, last, rate in LEGAL_RATES:
        if first <= day <= last:
            return rate
    return None


def late_interest(principal: Decimal, due_on: date, accrual_to: date,
                  added: Mapping[str, Decimal] | None = None) -> tuple[Decimal, int]:
    """§5: simple interest, base 365, from the day after ``due_on`` to ``accrual_to`` included,
    each day at its half-year's rate. Returns (interest on published days, unpublished days)."""
    interest, unpublished = Decimal(0), 0
    day = due_on + timedelta(days=1)
    while day <= accrual_to:
        rate = legal_rate(day, added)
        if rate is None:
            unpublished += 1
        else:
            interest += principal * rate / 100 / DAYS_IN_YEAR
        day += timedelta(days=1)
    return interest, unpublished


@dataclass
class Figures:
    """Everything the oracle computes for one period."""

    period_start: date
    period_end: date
    as_of: date
    is_provisional: bool
    method: str
    operations: dict[str, Operation]
    pmp: dict[str, PmpRow]  # entity NIF (None: unknown) or "ALL"/administration name
    morosity: dict[str, MorosityRow]
    art10: dict[str, Art10Row]
    interest: dict[str, InterestRow]
    pmp_ids: set[str]  # the invoices counted in the PMP

    def is_within_30_days(self, key: str | None) -> bool | None:
        """LO 2/2012 art. 13.6: the 30-day verdict, for the current method only (§1.3)."""
        row = self.pmp.get(key)
        if self.method != "rd1040_2017" or row is None or row.pmp is None:
            return None
        return row.pmp <= 30


def period_method(period_start: date) -> str:
    """§1.3 / §4 case 19: the original method for periods before 04/2018 (never mixed)."""
    return "rd1040_2017" if period_start >= NEW_METHOD_FROM else "rd635_2014_original"


def as_of_day(period_end: date, today: date, reading: Reading = Reading()) -> date:
    """§1.5: a closed period at its end; a running one at today (Madrid)."""
    return min(period_end, today) if reading.as_of_today else period_end


def in_pmp(op: Operation) -> bool:
    """An operation of §1.1 not excluded by RD 635/2014 art. 3 (§3.1)."""
    return op.role is not None and op.scope is None


def in_commercial_scope(op: Operation) -> bool:
    """Morosity and interest (Ley 3/2004, §3.2) cover transactions with businesses (art. 2.a):
    a public-body supplier is out; the other art. 3 exclusions (embargo, set-off, the suppliers'
    fund) are PMP rules and leave the debt, its lateness and its interest as they are."""
    return op.role is not None and op.scope != "public_body"


def pooled(entity: str | None, reading: Reading) -> list[str]:
    """The global rows an entity's operations go to (§1.1 global PMP): its declared
    administration; with no declaration the warehouse is one administration ("ALL"). An unknown
    entity is never pooled, nor is an entity in no declaration (issue 12)."""
    if reading.administrations is None:
        return [ALL] if entity is not None or reading.pool_unknown_entity else []
    return [global_key(name) for name, members in reading.administrations.items()
            if entity in members]  # fmt: skip


def global_key(administration: str | None) -> str:
    """The key of an administration's global row: "ALL" with no declaration, else "ALL/<id>"."""
    return ALL if administration in (None, ALL) else f"{ALL}/{administration}"


def compute(
    invoices: Iterable[Invoice],
    period_start: date,
    period_end: date,
    today: date,
    reading: Reading = Reading(),
) -> Figures:
    """Every figure of the period ``period_start``..``period_end`` as the law gives it."""
    as_of = as_of_day(period_end, today, reading)
    method = period_method(period_start)
    ops = {i.invoice_id: operation(i, period_start, as_of, method, reading) for i in invoices}

    pmp: dict[str | None, PmpRow] = defaultdict(PmpRow)
    morosity: dict[str | None, MorosityRow] = defaultdict(MorosityRow)
    for op in ops.values():
        if op.role is None:
            continue
        entity = op.invoice.entity_nif
        for key in (entity, *pooled(entity, reading)):
            if in_pmp(op):
                pmp[key].add(op)
            else:
                pmp[key].exclude(op)
        # §2.2: one row per entity and one per administration, as the PMP; the days count from
        # the §1.2 start whatever the PMP method.
        for key in (entity, *pooled(entity, reading)):
            if in_commercial_scope(op):
                morosity[key].add(op, as_of)
            else:
                morosity[key].exclude(op)

    art10: dict[str, Art10Row] = {}
    for op in ops.values():
        # §2.3: every invoice in the RCF (art. 3 exclusions are PMP rules); rejected invoices,
        # credit notes and, under the opt-in reading, quarantined invoices are not listed.
        if op.annotated_on is None or op.left_out is not None:
            continue
        three_months = add_months(op.annotated_on, 3)
        # §2.3, §4 cases 21-22; paying implies recognition (README).
        if three_months < as_of and op.recognised_on is None and op.payment_on is None:
            art10[op.invoice.invoice_id] = Art10Row(
                op.invoice.invoice_id, op.invoice.entity_nif, op.invoice.amount, op.annotated_on,
                three_months, (as_of - op.annotated_on).days, op.invoice.is_quarantined)  # fmt: skip

    interest: dict[str, InterestRow] = {}
    for op in ops.values():
        if not in_commercial_scope(op):
            continue
        accrual_to = op.payment_on if op.role == "paid" else as_of
        days_late = (accrual_to - op.interest_due_on).days
        if days_late <= 0:
            continue
        amount, unpublished = late_interest(op.invoice.amount, op.interest_due_on, accrual_to,
                                            reading.added_rates)  # fmt: skip
        interest[op.invoice.invoice_id] = InterestRow(
            op.invoice.invoice_id, op.invoice.entity_nif, op.invoice.amount, op.interest_due_on,
            accrual_to, days_late, amount, RECOVERY_COSTS, unpublished,
            op.invoice.amount if unpublished else Decimal(0), op.invoice.is_quarantined)  # fmt: skip

    counted = {iid for iid, op in ops.items() if in_pmp(op)}
    # §1.5: provisional while the period runs, its last day included (facts of today may still come)
    provisional = reading.as_of_today and today <= period_end
    return Figures(period_start, period_end, as_of, provisional, method, ops, dict(pmp),
                   dict(morosity), art10, interest, counted)  # fmt: skip
