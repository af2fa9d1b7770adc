"""The FACe simulator's seeded data: settings, invoices with their states, cancellation requests.

The documents come from the eFACT simulator's generator (entities with DIR3 triples, suppliers,
Facturae 3.2.x with an XAdES-shaped signature, annexes of every kind), imported, not copied: FACe
and eFACT carry the same Facturae. Same config, same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date

from rcflow.connectors.efact.simulator.clock import DAY_MS, madrid_date, now_ms
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.data import Dataset, add_runtime_invoices, build_dataset
from rcflow.connectors.efact.simulator.faults import Faults
from rcflow.connectors.efact.simulator.models import Invoice
from rcflow.connectors.face.codes import CancellationState, State

PROCESSED_STATES = (
    (State.REGISTERED_RCF, 20),
    (State.RECEIVED, 8),
    (State.CONFORMED, 8),
    (State.RECOGNISED, 16),
    (State.PAID, 36),
    (State.REJECTED, 8),
    (State.CANCELLED, 4),
)
CANCELLATION_REASONS = (
    "Factura duplicada",
    "Error en el importe",
    "Error en el NIF del destinatario",
    "Factura emitida por error",
    "Datos del pedido incorrectos",
)


@dataclass(frozen=True)
class FaceSimConfig:
    """Everything that shapes a simulated FACe.

    ``invoices`` wait in 1200; ``processed`` were confirmed long ago and went further (``None``: a
    tenth of ``invoices``, at least 12); ``cancellations`` of those carry a pending request (4200);
    with ``cancellation_arrival_rate`` new requests arrive while a client runs (seeded).
    ``skew_seconds`` is how far a request's wsu:Timestamp may stray; ``clock_offset_seconds`` puts
    FACe's clock ahead (or behind). Caps follow FACe: 500 per list, 100 per batch change.
    """

    seed: int = 0
    invoices: int = 200
    processed: int | None = None
    cancellations: int = 3
    cancellation_arrival_rate: float = 0.0  # per call: a supplier asks to cancel an open invoice
    credit_assignments: int = 2
    entities: int = 3
    today: date | None = None
    page_size: int = 500
    batch_size: int = 100
    query_size: int = 500
    skew_seconds: float = 300.0
    clock_offset_seconds: float = 0.0
    response_algorithm: str = "sha256"
    sign_responses: bool = True
    faults: Faults = field(default_factory=Faults)
    log_limit: int = 200_000

    def with_(self, **changes: object) -> FaceSimConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def processed_count(self) -> int:
        return self.processed if self.processed is not None else max(12, self.invoices // 10)


@dataclass(slots=True)
class FaceInvoice:
    """One invoice as FACe holds it; ``doc`` renders its Facturae and annexes."""

    registry_number: str
    doc: Invoice
    registered_ms: int
    state: State = State.REGISTERED
    cancellation: CancellationState = CancellationState.NONE
    cancellation_reason: str | None = None
    cancellation_ms: int | None = None
    rcf_code: str | None = None
    history: list[tuple[str, int, str]] = field(default_factory=list)  # (code, at_ms, comment)
    credit: tuple[str | None, str | None] | None = None  # (estado, comentario) of a cesión

    @property
    def office(self) -> str:
        return self.doc.office.accounting

    def move(self, code: State, at_ms: int, comment: str = "") -> None:
        self.state = code
        self.history.append((code.value, at_ms, comment))


def _efact_config(cfg: FaceSimConfig) -> SimConfig:
    return SimConfig(
        seed=cfg.seed,
        invoices=cfg.invoices,
        backfill=cfg.processed_count,
        unregistered=0,
        entities=cfg.entities,
        today=cfg.today,
        quirks=False,
        legacy_codes=0.0,
        face_rate=0.0,
        hostile_rate=0.0,
        mismatch_rate=0.0,
        late_attachment_rate=0.0,
        large_attachment_rate=0.0,
        signed_rate=1.0,
    )


class Registry:
    """FACe's numeroRegistro: year + 8 digits, one sequence per year."""

    def __init__(self) -> None:
        self.counters: dict[int, int] = {}

    def next(self, at_ms: int) -> str:
        year = madrid_date(at_ms).year
        self.counters[year] = self.counters.get(year, 1_020_700) + 1
        return f"{year}{self.counters[year]:08d}"


def build_invoices(cfg: FaceSimConfig, registry: Registry) -> tuple[Dataset, dict[str, FaceInvoice]]:
    """The documents (eFACT generator) and FACe's view of them, in registry order."""
    ds = build_dataset(_efact_config(cfg))
    rng = random.Random(f"{cfg.seed}/face")
    invoices: dict[str, FaceInvoice] = {}
    for doc in ds.invoices.values():
        if doc.registry_ms is None:  # refused by eFACT before registry: never reached FACe's REC
            continue
        doc.signed = True
        inv = FaceInvoice(registry.next(doc.registry_ms), doc, doc.registry_ms)
        inv.history.append((State.REGISTERED.value, doc.registry_ms, ""))
        if doc.origin == "backfill":
            _walk(inv, rng)
        invoices[inv.registry_number] = inv
    open_ones = [
        i for i in invoices.values() if i.state in (State.REGISTERED_RCF, State.RECEIVED, State.CONFORMED)
    ]
    for inv in rng.sample(open_ones, min(cfg.cancellations, len(open_ones))):
        request_cancellation(inv, rng.choice(CANCELLATION_REASONS), inv.history[-1][1] + DAY_MS)
    confirmed = [i for i in invoices.values() if i.state is not State.REGISTERED]
    for inv in rng.sample(confirmed, min(cfg.credit_assignments, len(confirmed))):
        inv.credit = ("6200", f"Cesión de crédito a entidad financiera {rng.randrange(10**4):04d}")
    return ds, invoices


def _walk(inv: FaceInvoice, rng: random.Random) -> None:
    target = rng.choices([s for s, _ in PROCESSED_STATES], weights=[w for _, w in PROCESSED_STATES])[0]
    at = inv.registered_ms
    inv.rcf_code = f"RCF/{madrid_date(at).year}/{rng.randrange(10**6):06d}"
    path = {
        State.REGISTERED_RCF: [State.REGISTERED_RCF],
        State.RECEIVED: [State.REGISTERED_RCF, State.RECEIVED],
        State.CONFORMED: [State.REGISTERED_RCF, State.RECEIVED, State.CONFORMED],
        State.RECOGNISED: [State.REGISTERED_RCF, State.RECEIVED, State.RECOGNISED],
        State.PAID: [State.REGISTERED_RCF, State.RECEIVED, State.RECOGNISED, State.PAID],
        State.REJECTED: [State.REGISTERED_RCF, State.REJECTED],
        State.CANCELLED: [State.REGISTERED_RCF, State.CANCELLED],
    }[target]
    for state in path:
        at += int(rng.uniform(0.2, 12) * DAY_MS)
        comment = "Factura duplicada" if state in (State.REJECTED, State.CANCELLED) else ""
        inv.move(state, at, comment)
    if target is State.CANCELLED:
        inv.cancellation, inv.cancellation_reason = CancellationState.ACCEPTED, "Factura duplicada"


def request_cancellation(inv: FaceInvoice, reason: str, at_ms: int | None = None) -> None:
    """A supplier asks to cancel ``inv`` (it shows in solicitarNuevasAnulaciones)."""
    inv.cancellation = CancellationState.REQUESTED
    inv.cancellation_reason = reason
    inv.cancellation_ms = at_ms if at_ms is not None else now_ms()


def add_new_invoices(cfg: FaceSimConfig, ds: Dataset, registry: Registry, count: int) -> list[FaceInvoice]:
    """Invoices registered now (they join the end of the queue)."""
    created = []
    for doc in add_runtime_invoices(_efact_config(cfg), ds, count, now_ms()):
        assert doc.registry_ms is not None
        doc.signed = True
        inv = FaceInvoice(registry.next(doc.registry_ms), doc, doc.registry_ms)
        inv.history.append((State.REGISTERED.value, doc.registry_ms, ""))
        created.append(inv)
    return created
