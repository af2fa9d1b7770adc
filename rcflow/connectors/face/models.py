"""What FACe answers, as typed values (English names; FACe's field in each comment).

Parsers take the plain values of :mod:`rcflow.connectors.face.wire` and raise ``ValueError`` with
the offending field on a shape they cannot read; the client turns that into a
``FaceProtocolError``. Instants are aware datetimes: FACe writes Madrid wall-clock times.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rcflow.clock import MADRID
from rcflow.connectors.face.codes import OK, STATE_NAMES
from rcflow.connectors.face.wire import items

Wire = dict[str, Any]


def text(data: Wire, key: str, *, required: bool = True) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, (dict, list)):
        raise ValueError(f"{key}: expected text")
    if value is None and required:
        raise ValueError(f"{key}: missing")
    return value.strip() if isinstance(value, str) else value


def need(data: Wire, key: str) -> str:
    value = text(data, key)
    assert value is not None
    return value


def moment(value: str | None, key: str) -> datetime | None:
    """FACe's ``YYYY-MM-DD HH:MM:SS`` (Madrid) or an ISO instant, as an aware datetime."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"{key}: not a date-time ({value!r})") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MADRID)


def decode_b64(value: str | None, key: str) -> bytes:
    try:
        return base64.b64decode("".join((value or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{key}: not base64") from None


def section(data: Wire, key: str) -> Wire:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key}: missing")
    return value


@dataclass(frozen=True)
class Result:
    """``resultado``: every answer's outcome; keep ``tracking`` (codigoSeguimiento) in the audit."""

    code: str
    description: str | None
    tracking: str | None

    @property
    def ok(self) -> bool:
        return self.code == OK

    @classmethod
    def from_wire(cls, answer: Wire) -> Result:
        data = section(answer, "resultado")
        return cls(
            need(data, "codigo"),
            text(data, "descripcion", required=False),
            text(data, "codigoSeguimiento", required=False),
        )


@dataclass(frozen=True)
class NewInvoice:
    """An invoice waiting in state 1200 (``solicitarNuevasFacturas``)."""

    registry_number: str  # numeroRegistro
    accounting_office: str  # oficinaContable
    managing_body: str | None  # organoGestor
    processing_unit: str | None  # unidadTramitadora
    registered_at: datetime | None  # fechaHoraRegistro

    @classmethod
    def from_wire(cls, data: Wire) -> NewInvoice:
        return cls(
            need(data, "numeroRegistro"),
            need(data, "oficinaContable"),
            text(data, "organoGestor", required=False),
            text(data, "unidadTramitadora", required=False),
            moment(text(data, "fechaHoraRegistro", required=False), "fechaHoraRegistro"),
        )


@dataclass(frozen=True)
class NewInvoicesPage:
    invoices: list[NewInvoice]
    tracking: str | None
    capped: bool  # exactly the 500 cap: more may be waiting once these are confirmed


@dataclass(frozen=True)
class Annex:
    """An annex of a downloaded invoice (``anexos/anexo``)."""

    name: str  # nombre: data from the supplier, never a path
    media_type: str | None  # mime
    content: bytes = field(repr=False)  # anexo (base64 on the wire)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @classmethod
    def from_wire(cls, data: Wire, index: int) -> Annex:
        return cls(
            text(data, "nombre", required=False) or f"anexo-{index + 1}",
            text(data, "mime", required=False),
            decode_b64(text(data, "anexo", required=False), f"anexos[{index}]"),  # an empty file is data
        )


@dataclass(frozen=True)
class DownloadedInvoice:
    """``descargarFactura``: the signed Facturae (.xsig) and its annexes, decoded."""

    registry_number: str
    number: str | None  # numero
    series: str | None  # serie
    amount: Decimal | None  # importe
    supplier_tax_id: str | None  # proveedor
    file_name: str | None  # nombre
    media_type: str | None  # mime
    document: bytes = field(repr=False)  # factura (base64 on the wire)
    annexes: tuple[Annex, ...] = ()
    tracking: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.document).hexdigest()

    @classmethod
    def from_wire(cls, answer: Wire, registry_number: str, tracking: str | None) -> DownloadedInvoice:
        data = section(answer, "factura")
        amount_text = text(data, "importe", required=False)
        try:
            amount = Decimal(amount_text) if amount_text is not None else None
        except InvalidOperation:
            raise ValueError(f"importe: not a number ({amount_text!r})") from None
        document = decode_b64(text(data, "factura"), "factura")
        if not document:
            raise ValueError("factura: empty document")
        annex_list = data.get("anexos")
        annexes = items(annex_list.get("anexo")) if isinstance(annex_list, dict) else []
        return cls(
            registry_number,
            text(data, "numero", required=False),
            text(data, "serie", required=False),
            amount,
            text(data, "proveedor", required=False),
            text(data, "nombre", required=False),
            text(data, "mime", required=False),
            document,
            tuple(Annex.from_wire(a, i) for i, a in enumerate(annexes)),
            tracking,
        )


@dataclass(frozen=True)
class StateInfo:
    code: str  # codigo
    description: str | None  # descripcion
    reason: str | None  # motivo

    @classmethod
    def from_wire(cls, data: Any) -> StateInfo | None:
        if not isinstance(data, dict) or text(data, "codigo", required=False) is None:
            return None
        return cls(
            need(data, "codigo"),
            text(data, "descripcion", required=False),
            text(data, "motivo", required=False),
        )


@dataclass(frozen=True)
class InvoiceStatus:
    """``consultarFactura``: the processing and cancellation states of one invoice."""

    registry_number: str
    processing: StateInfo | None  # tramitacion
    cancellation: StateInfo | None  # anulacion

    @classmethod
    def from_wire(cls, data: Wire) -> InvoiceStatus:
        return cls(
            need(data, "numeroRegistro"),
            StateInfo.from_wire(data.get("tramitacion")),
            StateInfo.from_wire(data.get("anulacion")),
        )


@dataclass(frozen=True)
class ItemResult:
    """One invoice's outcome inside a list call (or the answer of a single change)."""

    registry_number: str
    code: str  # codigo ("0" = done)
    description: str | None
    state: str | None  # the invoice's code after the call, when FACe gives it
    status: InvoiceStatus | None = None  # consultarListadoFacturas only
    tracking: str | None = None  # the call's codigoSeguimiento (one per call, shared by its items)

    @property
    def ok(self) -> bool:
        return self.code == OK

    @classmethod
    def from_wire(cls, data: Wire, fallback_id: str) -> ItemResult:
        invoice = data.get("factura") if isinstance(data.get("factura"), dict) else {}
        registry = text(invoice, "numeroRegistro", required=False) or fallback_id
        status = None
        if isinstance(invoice.get("tramitacion"), dict) or isinstance(invoice.get("anulacion"), dict):
            status = InvoiceStatus.from_wire({**invoice, "numeroRegistro": registry})
        return cls(
            registry,
            need(data, "codigo"),
            text(data, "descripcion", required=False),
            text(invoice, "codigo", required=False),
            status,
        )


@dataclass(frozen=True)
class RcfCodeChanged:
    """``cambiarCodigoRCF``'s answer: the RCF number FACe now holds."""

    registry_number: str
    rcf_code: str  # codigoRCF
    tracking: str | None  # codigoSeguimiento


@dataclass(frozen=True)
class StateChange:
    """A request for ``cambiarEstadoFactura`` (2400, 2500, 2600 with its reason, …)."""

    office: str  # oficinaContable
    registry_number: str  # numeroRegistro
    code: str  # codigo
    comment: str = ""  # comentario

    def to_wire(self) -> Wire:
        return {
            "oficinaContable": self.office,
            "numeroRegistro": self.registry_number,
            "codigo": self.code,
            "comentario": self.comment,
        }


@dataclass(frozen=True)
class CancellationAnswer:
    """An answer to a cancellation request: 4300 accepts it, 4400 rejects it."""

    office: str
    registry_number: str
    accept: bool
    comment: str = ""

    @property
    def code(self) -> str:
        return "4300" if self.accept else "4400"

    def to_wire(self) -> Wire:
        return {
            "oficinaContable": self.office,
            "numeroRegistro": self.registry_number,
            "codigo": self.code,
            "comentario": self.comment,
        }


@dataclass(frozen=True)
class CancellationRequest:
    """A supplier's request to cancel an invoice (``solicitarNuevasAnulaciones``)."""

    registry_number: str
    accounting_office: str
    managing_body: str | None
    processing_unit: str | None
    requested_at: datetime | None  # fechaHoraSolicitudAnulacion
    reason: str | None  # motivo

    @classmethod
    def from_wire(cls, data: Wire) -> CancellationRequest:
        return cls(
            need(data, "numeroRegistro"),
            need(data, "oficinaContable"),
            text(data, "organoGestor", required=False),
            text(data, "unidadTramitadora", required=False),
            moment(text(data, "fechaHoraSolicitudAnulacion", required=False), "fechaHoraSolicitudAnulacion"),
            text(data, "motivo", required=False),
        )


@dataclass(frozen=True)
class CancellationPage:
    requests: list[CancellationRequest]
    tracking: str | None
    capped: bool


@dataclass(frozen=True)
class StateDefinition:
    """A row of ``consultarEstados``."""

    code: str
    flow: str | None  # flujo: ordinario / anulación
    name: str | None
    public_name: str | None
    description: str | None

    @classmethod
    def from_wire(cls, data: Wire) -> StateDefinition:
        code = need(data, "codigo")
        flow, name = STATE_NAMES.get(code, (None, None))
        return cls(
            code,
            text(data, "flujo", required=False) or flow,
            text(data, "nombre", required=False) or name,
            text(data, "nombrePublico", required=False),
            text(data, "descripcion", required=False),
        )


@dataclass(frozen=True)
class Dir3Unit:
    code: str
    name: str | None

    @classmethod
    def from_wire(cls, data: Any, key: str) -> Dir3Unit:
        if not isinstance(data, dict):
            raise ValueError(f"{key}: missing")
        return cls(need(data, "codigo"), text(data, "nombre", required=False))


@dataclass(frozen=True)
class UnitRelation:
    """One DIR3 triple the platform serves (``consultarUnidades``: relaciones/OGUTOC)."""

    accounting_office: Dir3Unit
    managing_body: Dir3Unit
    processing_unit: Dir3Unit

    @classmethod
    def from_wire(cls, data: Wire) -> UnitRelation:
        return cls(
            Dir3Unit.from_wire(data.get("oficinaContable"), "oficinaContable"),
            Dir3Unit.from_wire(data.get("organoGestor"), "organoGestor"),
            Dir3Unit.from_wire(data.get("unidadTramitadora"), "unidadTramitadora"),
        )


@dataclass(frozen=True)
class CreditAssignment:
    """A credit assignment (cesión de crédito) of an invoice: its state and comment."""

    registry_number: str
    state: str | None  # estado (consultarEstadoCesion) or codigo (gestionarCesion)
    comment: str | None
    tracking: str | None = None

    @classmethod
    def from_wire(cls, answer: Wire, registry_number: str, tracking: str | None) -> CreditAssignment:
        data = section(answer, "cesion")
        return cls(
            text(data, "numeroRegistro", required=False) or registry_number,
            text(data, "estado", required=False) or text(data, "codigo", required=False),
            text(data, "comentario", required=False),
            tracking,
        )
