"""The hub's compact in-memory records: bytes (XML, attachments) are generated on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rcflow.connectors.efact.states import STATE_TABLE, State

# Per-invoice quirk bits (applied only when the config's quirks switch is on).
Q_PROVEEDOR = 1  # nifProveedor / nomProveedor instead of ...Proveidor
Q_NO_ID = 2  # detail without "id"
Q_AMOUNT_STR = 4  # importFactura as a string
Q_NO_MILLIS = 8  # dataEstat without milliseconds
Q_LEGACY_CODES = 16  # /estats codiEstat is the public code


@dataclass(frozen=True, slots=True)
class Office:
    accounting: str  # DIR3 oficina comptable (role 01)
    managing: str  # DIR3 òrgan gestor (role 02)
    processing: str  # DIR3 unitat tramitadora (role 03)
    names: tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Entity:
    index: int
    name: str
    cif: str
    ine10: str
    town: str
    postcode: str
    province: str
    address: str
    offices: tuple[Office, ...]

    @property
    def nif(self) -> str:
        return "ES" + self.cif


@dataclass(frozen=True, slots=True)
class Supplier:
    index: int
    tax_id: str  # as written in Facturae (no ES prefix for Spanish ids)
    nif: str  # hub format
    name: str
    person_type: str  # F individual, J legal entity
    residence: str  # R resident, U EU, E elsewhere
    country: str  # ISO alpha-2
    given: str
    surnames: tuple[str, str]
    address: str
    town: str  # "PostCode Town" for overseas addresses
    postcode: str
    province: str
    country3: str
    iban: str
    number_style: int

    @property
    def individual(self) -> bool:
        return self.person_type == "F"


@dataclass(slots=True)
class StateEntry:
    state: State
    at_ms: int
    rcf_number: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    payment_date: str | None = None


@dataclass(slots=True)
class Attachment:
    id: str
    invoice_id: str
    name: str
    kind: str  # pdf, xlsx, docx, png, jpeg, zip, xml, txt, bin
    size: int  # target size for pdf/bin (-1: natural size), 0 for an empty file
    late: bool = False  # arrives only after its invoice left the pending list
    arrived: bool = True
    released: bool = False  # acknowledged with DELETE /adjunts-pendents/:id
    content: bytes | None = None  # set for attachments added at runtime


@dataclass(slots=True)
class Invoice:
    id: str
    origin: str  # pending, backfill, unregistered, runtime
    entity: Entity
    office: Office
    supplier: Supplier
    number: str
    series: str
    issue_date: date
    sent_ms: int
    registry_ms: int | None
    registry_number: str | None
    amount_cents: int = 0
    credit: bool = False
    version: str = "3.2.1"
    signed: bool = False
    quirks: int = 0
    face_number: str | None = None
    face_ms: int | None = None
    hostile: str | None = None
    mismatch: str | None = None
    history: list[StateEntry] = field(default_factory=list)
    hidden_history: int = 0  # leading entries /estats does not show (FTP-era invoices)
    pending: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    delivered_call: int | None = None  # /adjunts-pendents call count when it left the queue

    @property
    def state(self) -> State:
        return self.history[-1].state

    @property
    def state_ms(self) -> int:
        return self.history[-1].at_ms

    def last(self, state: State) -> StateEntry | None:
        for entry in reversed(self.history):
            if entry.state is state:
                return entry
        return None

    def code_for(self, state: State) -> str:
        info = STATE_TABLE[state]
        return info.public_code if self.quirks & Q_LEGACY_CODES else info.technical_code
