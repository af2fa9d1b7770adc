"""The seeded dataset: entities, suppliers, invoices with histories, attachments.

Everything derives from ``SimConfig`` (seed, counts, today): same inputs, same data. Only
compact records are kept; Facturae and attachment bytes are generated on request.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Generic, TypeVar

from rcflow.connectors.efact.simulator import catalog
from rcflow.connectors.efact.simulator.clock import DAY_MS, madrid_date, midnight_ms, today_madrid
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.facturae import invoice_total
from rcflow.connectors.efact.simulator.identifiers import (
    hub_nif,
    make_cif,
    make_dni,
    make_eu_vat,
    make_iban,
    make_nie,
)
from rcflow.connectors.efact.simulator.models import (
    Q_AMOUNT_STR,
    Q_LEGACY_CODES,
    Q_NO_ID,
    Q_NO_MILLIS,
    Q_PROVEEDOR,
    Attachment,
    Entity,
    Invoice,
    Office,
    StateEntry,
    Supplier,
)
from rcflow.connectors.efact.states import State

T = TypeVar("T")
WINDOW_DAYS = 455  # ~15 months of registry history before `today`
FIRST_INVOICE_ID = 159_700_000
FIRST_ATTACHMENT_ID = 259_000_000
ATTACHMENT_KINDS = ("pdf", "xlsx", "docx", "png", "jpeg", "zip", "xml", "txt", "bin")
ATTACHMENT_WEIGHTS = (45, 9, 7, 6, 8, 6, 7, 7, 5)
VERSIONS = ("3.2", "3.2.1", "3.2.2", "3.2.2-2014")
VERSION_WEIGHTS = (10, 45, 30, 15)
BACKFILL_TARGETS = (
    (State.DELIVERED, 4), (State.ANNOTATED, 14), (State.RECEIVED, 8), (State.ACCEPTED, 10),
    (State.RECOGNISED, 14), (State.PAID, 36), (State.REJECTED, 7), ("HUB_REJECTED", 7),
)


@dataclass
class Dataset:
    today: date
    entities: list[Entity]
    suppliers: list[Supplier]
    invoices: dict[str, Invoice] = field(default_factory=dict)  # registry order
    attachments: dict[str, Attachment] = field(default_factory=dict)
    next_invoice_id: int = FIRST_INVOICE_ID
    next_attachment_id: int = FIRST_ATTACHMENT_ID
    registry_counters: dict[int, int] = field(default_factory=dict)
    number_counters: dict[int, int] = field(default_factory=dict)

    def ids(self, origin: str) -> list[str]:
        return [i.id for i in self.invoices.values() if i.origin == origin]


@dataclass
class _Draft:
    """An invoice before ids and registry numbers are assigned (drafts are sorted by time)."""

    origin: str
    entity: Entity
    office: Office
    supplier: Supplier
    sent_ms: int
    registry_ms: int | None
    lag_days: int
    credit: bool
    version: str
    signed: bool
    quirks: int
    face: bool
    hostile: str | None
    mismatch: str | None
    attachments: int
    target: object = None


def build_entities(seed: int, count: int) -> list[Entity]:
    rng = random.Random(f"{seed}/entities")
    entities = []
    for index, spec in enumerate(catalog.ENTITIES[: max(1, count)]):
        street = rng.choice(catalog.STREETS)
        second = f"LA{rng.randrange(10**7):07d}"
        offices = []
        for n, names in enumerate(catalog.OFFICE_NAMES):
            accounting = spec.dir3_prefix if n < 2 else second
            offices.append(Office(accounting, f"LA{rng.randrange(10**7):07d}",
                                  f"LA{rng.randrange(10**7):07d}", names))
        entities.append(Entity(
            index, spec.name, make_cif(rng, spec.cif_letter, spec.cif_body), spec.ine10,
            spec.town, spec.postcode, spec.province, f"{street}, {rng.randrange(1, 80)}",
            tuple(offices),
        ))
    return entities


def build_suppliers(seed: int, count: int) -> list[Supplier]:
    rng = random.Random(f"{seed}/suppliers")
    suppliers = []
    for index in range(count):
        roll = rng.random()
        given, s1, s2 = (rng.choice(catalog.GIVEN_NAMES), rng.choice(catalog.SURNAMES),
                         rng.choice(catalog.SURNAMES))
        town, postcode, province = rng.choice(catalog.TOWNS)
        address = f"{rng.choice(catalog.STREETS)}, {rng.randrange(1, 200)}"
        country, residence, person, country3 = "ES", "R", "J", "ESP"
        if roll < 0.2:
            person, tax_id, name = "F", make_dni(rng), f"{given} {s1} {s2}"
        elif roll < 0.27:
            person, tax_id, name = "F", make_nie(rng), f"{given} {s1} {s2}"
        elif roll < 0.37:
            country = rng.choice(tuple(catalog.FOREIGN_COMPANIES))
            residence = "U"
            tax_id = make_eu_vat(rng, country)
            name = rng.choice(catalog.FOREIGN_COMPANIES[country])
            address, town, province, country3 = catalog.FOREIGN_ADDRESSES[country]
            postcode = ""
        else:
            letter = rng.choices("ABFGJUR", weights=(20, 60, 6, 6, 3, 3, 2))[0]
            tax_id = make_cif(rng, letter)
            form = rng.choice(catalog.COMPANY_FORMS[letter])
            stem = rng.choice(catalog.COMPANY_STEMS)
            name = f"{stem}, {form}" if form and letter != "G" else (
                f"{form} {stem}" if form else stem)
            if rng.random() < 0.15:
                name = name.upper()
        suppliers.append(Supplier(
            index, tax_id, hub_nif(tax_id), name, person, residence, country, given, (s1, s2),
            address, town, postcode, province, country3, make_iban(rng), rng.randrange(4),
        ))
    return suppliers


def _registry_moment(rng: random.Random, start_ms: int, days: int) -> int:
    while True:
        day = rng.randrange(days)
        day_ms = start_ms + day * DAY_MS
        if madrid_date(day_ms + DAY_MS // 2).weekday() >= 5 and rng.random() < 0.7:
            continue
        hour = rng.uniform(8, 19) if rng.random() < 0.9 else rng.uniform(0, 24)
        return day_ms + int(hour * 3_600_000) + rng.randrange(1000)


def _quirk_bits(rng: random.Random, legacy_share: float) -> int:
    bits = 0
    for bit, share in ((Q_PROVEEDOR, 0.15), (Q_NO_ID, 0.2), (Q_AMOUNT_STR, 0.15),
                       (Q_NO_MILLIS, 0.5), (Q_LEGACY_CODES, legacy_share)):
        if rng.random() < share:
            bits |= bit
    return bits


class _Picker(Generic[T]):
    """Weighted choice through cumulative weights (fast for thousands of draws)."""

    def __init__(self, items: list[T], weights: list[float]) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


def _draft(
    rng: random.Random, origin: str, cfg: SimConfig, entities: _Picker[Entity],
    suppliers: _Picker[Supplier],
    start_ms: int, days: int,
) -> _Draft:
    entity = entities.pick(rng)
    registry_ms = _registry_moment(rng, start_ms, days)
    sent_ms = registry_ms - rng.randrange(2_000, 90_000)
    roll = rng.random()
    lag = rng.randrange(0, 4) if roll < 0.7 else (
        rng.randrange(4, 21) if roll < 0.95 else rng.randrange(21, 76))
    hostile = mismatch = None
    if origin == "pending" and rng.random() < cfg.hostile_rate:
        hostile = rng.choice(("xxe", "bomb", "malformed", "names", "names"))
    if rng.random() < cfg.mismatch_rate:
        mismatch = rng.choice(("total", "total", "seller_nif", "buyer_nif"))
    n_att = rng.choices((0, 1, 2, 3, 4), weights=(35, 35, 18, 8, 4))[0]
    return _Draft(
        origin, entity, rng.choice(entity.offices), suppliers.pick(rng), sent_ms,
        None if origin == "unregistered" else registry_ms, lag, rng.random() < 0.03,
        rng.choices(VERSIONS, weights=VERSION_WEIGHTS)[0], rng.random() < cfg.signed_rate,
        _quirk_bits(rng, cfg.legacy_codes), rng.random() < cfg.face_rate, hostile, mismatch,
        n_att if origin == "pending" else 0,
    )


def _invoice_number(supplier: Supplier, issue: date, counter: int) -> tuple[str, str]:
    style = supplier.number_style
    if style == 0:
        return f"F{issue:%y%m}-{counter % 1000:03d}", ""
    if style == 1:
        return f"{issue.year}/{counter:05d}", ""
    if style == 2:
        return f"{counter:06d}", "FV"
    return f"{issue:%y}{counter:04d}", "A"


def build_dataset(cfg: SimConfig) -> Dataset:
    """Generate the whole hub state for ``cfg`` (deterministic)."""
    today = cfg.today or today_madrid()
    entities = build_entities(cfg.seed, cfg.entities)
    suppliers = build_suppliers(cfg.seed, min(1500, max(40, cfg.invoices // 15)))
    ds = Dataset(today, entities, suppliers)
    entity_picker, supplier_picker = _pickers(ds)
    end_ms = midnight_ms(today)
    window_start = end_ms - WINDOW_DAYS * DAY_MS
    drafts: list[_Draft] = []
    for origin, count, start, days in (
        ("pending", cfg.invoices, window_start, WINDOW_DAYS),
        ("backfill", cfg.backfill_count, window_start, WINDOW_DAYS - 40),
        ("unregistered", cfg.unregistered, end_ms - 20 * DAY_MS, 20),
    ):
        rng = random.Random(f"{cfg.seed}/{origin}")
        drafts.extend(_draft(rng, origin, cfg, entity_picker, supplier_picker, start, days)
                      for _ in range(count))
    drafts.sort(key=lambda d: d.registry_ms or d.sent_ms)
    id_rng = random.Random(f"{cfg.seed}/ids")
    att_rng = random.Random(f"{cfg.seed}/attachments")
    for d in drafts:
        _add(cfg, ds, d, id_rng, att_rng)
    return ds


def _pickers(ds: Dataset) -> tuple[_Picker[Entity], _Picker[Supplier]]:
    entities = _Picker(ds.entities, [catalog.ENTITIES[e.index].weight for e in ds.entities])
    suppliers = _Picker(ds.suppliers, [1 / (i + 3) ** 0.8 for i in range(len(ds.suppliers))])
    return entities, suppliers


def _add(
    cfg: SimConfig, ds: Dataset, d: _Draft, rng: random.Random, att_rng: random.Random,
) -> Invoice:
    ds.next_invoice_id += rng.choice((1, 1, 2, 3, 7))
    key = d.supplier.index
    ds.number_counters[key] = ds.number_counters.get(key, rng.randrange(1, 400)) + 1
    inv = _materialise(cfg, ds, d, str(ds.next_invoice_id), ds.number_counters[key], rng)
    ds.invoices[inv.id] = inv
    for _ in range(d.attachments):
        add_generated_attachment(cfg, ds, inv, att_rng)
    return inv


def add_runtime_invoices(cfg: SimConfig, ds: Dataset, count: int, now: int) -> list[Invoice]:
    """Invoices that reach the hub while it runs: registered now, appended to the queue."""
    rng = random.Random(f"{cfg.seed}/runtime/{ds.next_invoice_id}")
    entities, suppliers = _pickers(ds)
    created = []
    for i in range(count):
        d = _draft(rng, "pending", cfg, entities, suppliers, midnight_ms(ds.today), 1)
        d.registry_ms = now + i
        d.sent_ms = d.registry_ms - rng.randrange(2_000, 60_000)
        d.lag_days = min(d.lag_days, 5)
        inv = _add(cfg, ds, d, rng, rng)
        inv.origin = "runtime"
        created.append(inv)
    return created


def next_registry_number(ds: Dataset, registry_ms: int) -> str:
    """The hub's registry entry number: one sequence per year (``E2025000064``)."""
    year = madrid_date(registry_ms).year
    ds.registry_counters[year] = ds.registry_counters.get(year, 40) + 1
    return f"E{year}{ds.registry_counters[year]:06d}"


def _materialise(
    cfg: SimConfig, ds: Dataset, d: _Draft, inv_id: str, counter: int, rng: random.Random,
) -> Invoice:
    moment = d.registry_ms or d.sent_ms
    issue = madrid_date(moment) - timedelta(days=d.lag_days)
    number, series = _invoice_number(d.supplier, issue, counter)
    inv = Invoice(
        id=inv_id, origin=d.origin, entity=d.entity, office=d.office, supplier=d.supplier,
        number=number, series=series, issue_date=issue, sent_ms=d.sent_ms,
        registry_ms=d.registry_ms,
        registry_number=next_registry_number(ds, d.registry_ms)
        if d.registry_ms else None,
        credit=d.credit, version=d.version, signed=d.signed, quirks=d.quirks,
        hostile=d.hostile, mismatch=d.mismatch,
    )
    total = invoice_total(cfg.seed, inv_id, d.credit, d.supplier.individual)
    if d.mismatch == "total":
        total += rng.choice((1, -1, 100, -2500, 9999))
    inv.amount_cents = total
    if d.face and d.registry_ms:
        inv.face_ms = d.registry_ms - rng.randrange(60_000, 6 * 3_600_000)
        inv.face_number = f"{madrid_date(inv.face_ms).year}{rng.randrange(10**10):011d}"
    inv.history.append(StateEntry(State.SENT, d.sent_ms))
    if d.registry_ms:
        inv.history.append(StateEntry(State.REGISTERED, d.registry_ms + rng.randrange(800, 8000)))
    if d.origin == "pending":
        inv.pending = True
    elif d.origin == "backfill":
        _backfill_history(cfg, ds, inv)
    return inv


def _backfill_history(cfg: SimConfig, ds: Dataset, inv: Invoice) -> None:
    """Walk a backfill invoice along its lifecycle, never past the start of `today`."""
    rng = random.Random(f"{cfg.seed}/history/{inv.id}")
    end_ms = midnight_ms(ds.today) - 3_600_000
    target = rng.choices([t for t, _ in BACKFILL_TARGETS],
                         weights=[w for _, w in BACKFILL_TARGETS])[0]
    if target == "HUB_REJECTED":
        code, reason = rng.choice(catalog.HUB_REJECTIONS)
        if rng.random() < 0.4:  # rejected on validation, before the registry entry
            del inv.history[1:]
            inv.registry_ms = inv.registry_number = None
        at = inv.history[-1].at_ms + rng.randrange(5_000, 3_600_000)
        inv.history.append(StateEntry(State.REJECTED, at, reason_code=code, reason=reason))
        return
    t = inv.history[-1].at_ms

    def step(state: State, min_days: float, max_days: float, **extra: str | None) -> bool:
        nonlocal t
        at = t + int(rng.uniform(min_days, max_days) * DAY_MS) + rng.randrange(60_000)
        if at >= end_ms:
            return False
        t = at
        inv.history.append(StateEntry(state, at, **extra))
        return state is not target

    seq = 1 + int(rng.random() * 900)
    rcf = f"RCF-{madrid_date(t).year}-{seq:06d}"
    chain = [
        (State.DELIVERED, rng.random() < 0.5 or target is State.DELIVERED, 0.01, 2, {}),
        (State.ANNOTATED, True, 0.05, 5, {"rcf_number": rcf}),
        (State.RECEIVED, rng.random() < 0.6 or target is State.RECEIVED, 0.5, 10, {}),
        (State.ACCEPTED, rng.random() < 0.7 or target is State.ACCEPTED, 0.5, 20, {}),
        (State.RECOGNISED, True, 0.5, 30, {}),
        (State.PAID, True, 5, 60, {}),
    ]
    if target is State.REJECTED:
        cut = rng.choice((2, 3))  # rejected after ANNOTATED or RECEIVED
        chain = chain[:cut]
    for state, wanted, low, high, extra in chain:
        if not wanted:
            continue
        if state is State.PAID:
            extra = {"payment_date": None}
        if not step(state, low, high, **extra):
            break
    else:
        if target is State.REJECTED:
            code, reason = rng.choice(catalog.RCF_REJECTIONS)
            step(State.REJECTED, 0.5, 15, reason_code=code, reason=reason)
    paid = inv.last(State.PAID)
    if paid is not None:
        old = paid.at_ms < end_ms - 180 * DAY_MS
        if not (old and rng.random() < 0.5):  # pre-REST payments may lack a payment date
            paid.payment_date = (madrid_date(paid.at_ms) - timedelta(
                days=rng.choice((0, 0, 1, 2)))).isoformat()
    if rng.random() < 0.05:
        inv.hidden_history = len(inv.history)  # FTP-era invoice without a state history


def add_generated_attachment(
    cfg: SimConfig, ds: Dataset, inv: Invoice, rng: random.Random,
) -> Attachment:
    ds.next_attachment_id += rng.choice((1, 1, 1, 2, 5))
    kind = rng.choices(ATTACHMENT_KINDS, weights=ATTACHMENT_WEIGHTS)[0]
    size = -1
    if kind in ("pdf", "bin"):
        size = int(math.exp(rng.uniform(math.log(3_000), math.log(150_000))))
        # pdf and bin are half of all attachments: double the share to hit the overall rate
        if rng.random() < cfg.large_attachment_rate * 2:
            size = rng.randrange(2_000_000, 12_000_000)
    if kind in ("pdf", "txt") and rng.random() < 0.02:
        size = 0
    if inv.hostile == "names" and rng.random() < 0.8:
        name = rng.choice(catalog.HOSTILE_ATTACHMENT_NAMES)
    else:
        name = rng.choice(catalog.ATTACHMENT_NAMES[kind]).format(n=rng.randrange(1, 999))
    att = Attachment(str(ds.next_attachment_id), inv.id, name, kind, size)
    if rng.random() < cfg.late_attachment_rate:
        att.late, att.arrived = True, False
    inv.attachments.append(att)
    ds.attachments[att.id] = att
    return att
