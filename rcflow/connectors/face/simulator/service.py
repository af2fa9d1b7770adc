"""The simulated FACe: registered certificates, the invoice state machine and every RCF operation.

Handlers take the plain ``request`` value of the SOAP call and return the answer's fields (the app
adds ``resultado``), or raise :class:`ApiError` with FACe's code. Rules: download only in 1200,
502 once confirmed; ``cambiarEstadoFactura`` never to 1200/1300/3100 and only along the lifecycle
(505); lists capped at 500 and batches at 100 (509); per-item failures inside a batch leave the
other items done. All mutations happen under one lock, so tests may drive the hub from their thread.
"""

from __future__ import annotations

import base64
import itertools
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from rcflow.connectors.efact.simulator.clock import fmt_ts, now_ms
from rcflow.connectors.efact.simulator.documents import CONTENT_TYPES, attachment_body
from rcflow.connectors.efact.simulator.facturae import money, render_facturae
from rcflow.connectors.efact.simulator.faults import FaultEngine, Injection
from rcflow.connectors.face.codes import (
    FORBIDDEN_TARGETS,
    RESULT_DESCRIPTIONS,
    STATE_NAMES,
    TRANSITIONS,
    CancellationState,
    State,
)
from rcflow.connectors.face.credentials import FaceCredentials, describe
from rcflow.connectors.face.simulator.certs import make_identity
from rcflow.connectors.face.simulator.data import (
    CANCELLATION_REASONS,
    FaceInvoice,
    FaceSimConfig,
    Registry,
    add_new_invoices,
    build_invoices,
    request_cancellation,
)
from rcflow.connectors.face.wire import LIST_REQUEST_ITEM, items

Answer = dict[str, Any]
_SHA256 = hashes.SHA256()
STATE_DESCRIPTIONS = {
    "1200": "La factura ha sido registrada en el registro electrónico REC",
    "1300": "La factura ha sido registrada en RCF",
    "2600": "La Unidad rechaza la factura",
    "3100": "La Unidad aprueba la propuesta de anulación",
}


class ApiError(Exception):
    def __init__(self, code: str, description: str | None = None):
        self.code = code
        self.description = description or RESULT_DESCRIPTIONS.get(code, "Error")
        super().__init__(f"{code} {self.description}")


@dataclass(frozen=True, slots=True)
class LogRecord:
    seq: int
    at: float
    operation: str | None
    status: int  # HTTP status; 0: the connection was dropped
    code: str | None  # resultado.codigo or the fault's code
    registry_numbers: tuple[str, ...]
    certificate: str | None  # the signer's subject
    fault: str | None
    tracking: str | None = None  # the answer's codigoSeguimiento (a handled call's)


class RequestLog:
    """Bounded (the oldest records fall off) and thread-safe."""

    def __init__(self, limit: int) -> None:
        self._records: deque[LogRecord] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, **fields: Any) -> LogRecord:
        with self._lock:
            record = LogRecord(seq=next(self._seq), **fields)
            self._records.append(record)
        return record

    def records(self, operation: str | None = None) -> list[LogRecord]:
        with self._lock:
            return [r for r in self._records if operation is None or r.operation == operation]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


def _fmt(ms: int | None) -> str | None:
    return fmt_ts(ms, millis=False).replace("T", " ")[:19] if ms is not None else None


def tracking_code() -> str:
    """Like FACe's codigoSeguimiento (13 hex characters)."""
    return secrets.token_hex(7)[:13]


class FaceHub:
    """In-memory FACe for one RCF platform."""

    def __init__(
        self,
        config: FaceSimConfig | None = None,
        *,
        identity: FaceCredentials | None = None,
        clients: tuple[x509.Certificate, ...] = (),
    ) -> None:
        self.config = config or FaceSimConfig()
        self.identity = identity or make_identity(
            "FACe simulator (webservice.face.gob.es)", organization="SGAD simulada"
        )
        self.lock = threading.RLock()
        self.registered: dict[bytes, x509.Certificate] = {}
        self.blocked: set[bytes] = set()
        for cert in clients:
            self.register(cert)
        self.log = RequestLog(self.config.log_limit)
        self.engine = FaultEngine(self.config.faults, self.config.seed)
        self.clock_offset_seconds = self.config.clock_offset_seconds
        self._registry = Registry()
        self._rng = random.Random(f"{self.config.seed}/arrivals")
        self.dataset, self.invoices = build_invoices(self.config, self._registry)
        self.offices = {
            (i.doc.office.accounting, i.doc.office.managing, i.doc.office.processing): i.doc.office
            for i in self.invoices.values()
        }
        for entity in self.dataset.entities:
            for office in entity.offices:
                self.offices[(office.accounting, office.managing, office.processing)] = office
        self.handlers: dict[str, Callable[[Any], Answer]] = {
            "solicitarNuevasFacturas": self.new_invoices,
            "descargarFactura": self.download,
            "confirmarDescargaFactura": self.confirm,
            "cambiarEstadoFactura": self.change_state,
            "cambiarEstadoListadoFacturas": self.change_states,
            "consultarFactura": self.status,
            "consultarListadoFacturas": self.statuses,
            "consultarCodigoRCF": self.rcf_code,
            "cambiarCodigoRCF": self.change_rcf_code,
            "consultarEstados": self.states,
            "consultarUnidades": self.units,
            "solicitarNuevasAnulaciones": self.new_cancellations,
            "gestionarSolicitudAnulacionFactura": self.answer_cancellation,
            "gestionarSolicitudAnulacionListadoFacturas": self.answer_cancellations,
            "consultarEstadoCesion": self.credit_assignment,
            "gestionarCesion": self.manage_credit_assignment,
        }

    def __repr__(self) -> str:
        return f"FaceHub(seed={self.config.seed}, invoices={len(self.invoices)})"

    # ------------------------------------------------------------ certificates and test controls
    def register(self, cert: x509.Certificate | FaceCredentials) -> None:
        """Register a platform certificate (what the integrators' portal does)."""
        cert = cert.certificate if isinstance(cert, FaceCredentials) else cert
        self.registered[cert.fingerprint(_SHA256)] = cert

    def block(self, cert: x509.Certificate | FaceCredentials) -> None:
        cert = cert.certificate if isinstance(cert, FaceCredentials) else cert
        self.blocked.add(cert.fingerprint(_SHA256))

    def trust(self, cert: x509.Certificate) -> str | None:
        """Why a request certificate is refused (None: it may call)."""
        fingerprint = cert.fingerprint(_SHA256)
        if fingerprint in self.blocked:
            return f"{describe(cert)} is on a block list"
        if fingerprint not in self.registered:
            return f"{describe(cert)} is not registered for any platform"
        return None

    @property
    def faults(self) -> Any:
        return self.engine.faults

    @faults.setter
    def faults(self, value: Any) -> None:
        self.engine.faults = value

    def inject(self, operation: str | None = None, **kwargs: Any) -> Any:
        """A targeted fault for the next call(s) of ``operation`` (see the eFACT simulator's Injection)."""
        pattern = f"^{operation}$" if operation else None
        return self.engine.inject(Injection(method="POST", path_regex=pattern, **kwargs))

    def add_invoices(self, count: int) -> list[str]:
        with self.lock:
            created = add_new_invoices(self.config, self.dataset, self._registry, count)
            for inv in created:
                self.invoices[inv.registry_number] = inv
            return [i.registry_number for i in created]

    def request_cancellation(self, registry_number: str, reason: str = "Factura duplicada") -> None:
        with self.lock:
            request_cancellation(self._invoice(registry_number), reason, self._now_ms())

    def force_state(self, registry_number: str, code: str) -> None:
        with self.lock:
            self._invoice(registry_number).move(State(code), self._now_ms(), "forced by a test")

    def invoice(self, registry_number: str) -> FaceInvoice:
        with self.lock:
            return self._invoice(registry_number)

    def waiting(self, office: str | None = None) -> list[str]:
        with self.lock:
            return [
                i.registry_number
                for i in self.invoices.values()
                if i.state is State.REGISTERED and (office is None or i.office == office)
            ]

    def document(self, registry_number: str) -> bytes:
        """The Facturae bytes ``descargarFactura`` serves for an invoice (tests compare with it)."""
        return render_facturae(self._invoice(registry_number).doc, self.config.seed)

    def annexes(self, registry_number: str) -> list[tuple[str, bytes]]:
        """The annexes (name, bytes) ``descargarFactura`` serves for an invoice, in its order."""
        inv = self._invoice(registry_number)
        return [(a.name, attachment_body(a, inv.doc, self.config.seed).read()) for a in inv.doc.attachments]

    # ------------------------------------------------------------ operations
    def new_invoices(self, request: Any) -> Answer:
        office = self._office_filter(request)
        waiting = [
            i
            for i in self.invoices.values()
            if i.state is State.REGISTERED and (office is None or i.office == office)
        ]
        rows = [
            self._queue_row(i, fechaHoraRegistro=_fmt(i.registered_ms))
            for i in waiting[: self.config.page_size]
        ]
        return {"facturas": {"solicitarNuevasFacturas": rows}}

    def download(self, request: Any) -> Answer:
        inv = self._invoice(_field(request, "numeroRegistro"))
        if inv.state is not State.REGISTERED:
            raise ApiError(
                "502",
                f"La factura {inv.registry_number} ya ha sido recibida por el RCF, no se puede descargar",
            )
        doc, seed = inv.doc, self.config.seed
        annexes = [
            {
                "anexo": base64.b64encode(attachment_body(a, doc, seed).read()).decode(),
                "nombre": a.name,
                "mime": CONTENT_TYPES[a.kind].split(";")[0],
            }
            for a in doc.attachments
        ]
        return {
            "factura": {
                "numeroRegistro": inv.registry_number,
                "numero": doc.number,
                "serie": doc.series or None,
                "importe": money(doc.amount_cents),
                "proveedor": doc.supplier.tax_id,
                "nombre": f"{doc.supplier.tax_id}_{doc.number}.xsig".replace("/", "-"),
                "factura": base64.b64encode(render_facturae(doc, seed)).decode(),
                "mime": "application/xml",
                "anexos": {"anexo": annexes} if annexes else None,
            }
        }

    def confirm(self, request: Any) -> Answer:
        inv = self._owned(request)
        rcf = _field(request, "codigoRCF")
        if inv.state is not State.REGISTERED:
            raise ApiError(
                "505",
                f"La factura {inv.registry_number} ya está en {inv.state.value}: "
                "no admite confirmarDescargaFactura",
            )
        inv.rcf_code = rcf
        inv.move(State.REGISTERED_RCF, self._now_ms(), f"codigoRCF {rcf}")
        return {
            "factura": {
                "numeroRegistro": inv.registry_number,
                "oficinaContable": inv.office,
                "codigo": inv.state.value,
            }
        }

    def change_state(self, request: Any) -> Answer:
        inv = self._apply_change(request)
        return {"factura": {"numeroRegistro": inv.registry_number, "codigo": inv.state.value}}

    def change_states(self, request: Any) -> Answer:
        rows = self._batch(request, "cambiarEstadoListadoFacturas", self.config.batch_size)
        return {
            "facturas": {
                "cambiarEstadoListadoFacturas": [
                    self._item(row, lambda r: self._apply_change(r).state.value) for row in rows
                ]
            }
        }

    def status(self, request: Any) -> Answer:
        return {"factura": self._status_of(self._invoice(_field(request, "numeroRegistro")))}

    def statuses(self, request: Any) -> Answer:
        numbers = self._batch(request, "consultarListadoFacturas", self.config.query_size)
        results = []
        for number in numbers:
            inv = self.invoices.get(str(number or "").strip())
            if inv is None:
                results.append(
                    {
                        "codigo": "511",
                        "descripcion": RESULT_DESCRIPTIONS["511"],
                        "factura": {"numeroRegistro": number, "tramitacion": None, "anulacion": None},
                    }
                )
            else:
                results.append({"codigo": "0", "descripcion": "Correcto", "factura": self._status_of(inv)})
        return {"facturas": {"consultarListadoFacturas": results}}

    def rcf_code(self, request: Any) -> Answer:
        return {"codigoRCF": self._invoice(_field(request, "numeroRegistro")).rcf_code}

    def change_rcf_code(self, request: Any) -> Answer:
        inv = self._invoice(_field(request, "numeroRegistro"))
        code = _field(request, "codigoRCF")
        if inv.state is State.REGISTERED:
            raise ApiError("505", "La factura no ha sido confirmada: no tiene código RCF que cambiar")
        inv.rcf_code = code
        return {"codigoRCF": code}

    def states(self, request: Any) -> Answer:
        rows = [
            {
                "flujo": flow,
                "nombre": name,
                "nombrePublico": name,
                "codigo": code,
                "descripcion": STATE_DESCRIPTIONS.get(code, name),
            }
            for code, (flow, name) in STATE_NAMES.items()
        ]
        return {"estados": {"Estado": rows}}

    def units(self, request: Any) -> Answer:
        rows = []
        for (oc, og, ut), office in sorted(self.offices.items()):
            oc_name, og_name, ut_name = office.names
            rows.append(
                {
                    "organoGestor": {"nombre": og_name, "codigo": og},
                    "unidadTramitadora": {"nombre": ut_name, "codigo": ut},
                    "oficinaContable": {"nombre": oc_name, "codigo": oc},
                }
            )
        return {"relaciones": {"OGUTOC": rows}}

    def new_cancellations(self, request: Any) -> Answer:
        office = self._office_filter(request)
        pending = sorted(
            (
                i
                for i in self.invoices.values()
                if i.cancellation is CancellationState.REQUESTED and (office is None or i.office == office)
            ),
            key=lambda i: i.cancellation_ms or 0,
        )
        rows = [
            self._queue_row(
                i, fechaHoraSolicitudAnulacion=_fmt(i.cancellation_ms), motivo=i.cancellation_reason
            )
            for i in pending[: self.config.page_size]
        ]
        return {"facturas": {"solicitarNuevasAnulaciones": rows}}

    def answer_cancellation(self, request: Any) -> Answer:
        inv = self._apply_cancellation_answer(request)
        return {"factura": {"numeroRegistro": inv.registry_number, "codigo": inv.cancellation.value}}

    def answer_cancellations(self, request: Any) -> Answer:
        rows = self._batch(request, "gestionarSolicitudAnulacionListadoFacturas", self.config.batch_size)
        return {
            "facturas": {
                "gestionarSolicitudAnulacionListadoFacturas": [
                    self._item(row, lambda r: self._apply_cancellation_answer(r).cancellation.value)
                    for row in rows
                ]
            }
        }

    def credit_assignment(self, request: Any) -> Answer:
        inv = self._invoice(_field(request, "numeroRegistro"))
        state, comment = inv.credit or (None, None)
        return {"cesion": {"numeroRegistro": inv.registry_number, "estado": state, "comentario": comment}}

    def manage_credit_assignment(self, request: Any) -> Answer:
        inv = self._invoice(_field(request, "numeroRegistro"))
        code = _field(request, "codigo")
        comment = _optional(request, "comentario")
        inv.credit = (code, comment)
        return {"cesion": {"numeroRegistro": inv.registry_number, "codigo": code, "comentario": comment}}

    # ------------------------------------------------------------ rules
    def _now_ms(self) -> int:
        return now_ms() + int(self.clock_offset_seconds * 1000)

    def _invoice(self, registry_number: str) -> FaceInvoice:
        inv = self.invoices.get(str(registry_number).strip())
        if inv is None:
            raise ApiError("511", f"La factura {registry_number} no existe o no tiene permisos")
        return inv

    def _owned(self, request: Any) -> FaceInvoice:
        inv = self._invoice(_field(request, "numeroRegistro"))
        office = _field(request, "oficinaContable")
        if inv.office != office:
            raise ApiError(
                "501", f"La factura {inv.registry_number} no pertenece a la oficina contable {office}"
            )
        return inv

    def _office_filter(self, request: Any) -> str | None:
        office = _optional(request, "oficinaContable")
        if office and office not in {oc for oc, _, _ in self.offices}:
            raise ApiError("411", f"No existe o inactiva la Oficina Contable asociado al código {office}")
        return office or None

    def _apply_change(self, request: Any) -> FaceInvoice:
        inv = self._owned(request)
        code = _field(request, "codigo")
        comment = _optional(request, "comentario") or ""
        try:
            target = State(code)
        except ValueError:
            raise ApiError(
                "505", f"El código de estado {code} no existe o no se gestiona por este servicio"
            ) from None
        if target in FORBIDDEN_TARGETS or target not in TRANSITIONS[inv.state]:
            raise ApiError(
                "505",
                f"Esta transición no esta permitida a través de este web service "
                f"({inv.state.value} => {target.value})",
            )
        if target is State.REJECTED and not comment.strip():
            raise ApiError("310", "Algún parámetro obligatorio aparece vacío: comentario (motivo de rechazo)")
        inv.move(target, self._now_ms(), comment)
        return inv

    def _apply_cancellation_answer(self, request: Any) -> FaceInvoice:
        inv = self._owned(request)
        code = _field(request, "codigo")
        if inv.cancellation is not CancellationState.REQUESTED:
            raise ApiError("512", f"La factura {inv.registry_number} no tiene solicitada la anulación")
        if code == CancellationState.ACCEPTED:
            inv.cancellation = CancellationState.ACCEPTED
            inv.move(State.CANCELLED, self._now_ms(), _optional(request, "comentario") or "")
        elif code == CancellationState.REJECTED:
            inv.cancellation = CancellationState.REJECTED
        else:
            raise ApiError(
                "505", f"Una solicitud de anulación se acepta (4300) o se rechaza (4400), no {code}"
            )
        return inv

    def _batch(self, request: Any, operation: str, cap: int) -> list[Any]:
        rows = items(request.get(LIST_REQUEST_ITEM[operation]) if isinstance(request, dict) else None)
        if not rows:
            raise ApiError("310", "Algún parámetro obligatorio aparece vacío: la lista está vacía")
        if len(rows) > cap:
            raise ApiError(
                "509", f"Se ha excedido el número máximo de facturas permitidas ({len(rows)} > {cap})"
            )
        return rows

    def _item(self, row: Any, apply: Callable[[Any], str]) -> Answer:
        number = _optional(row, "numeroRegistro")
        try:
            code = apply(row)
        except ApiError as exc:
            return {
                "codigo": exc.code,
                "descripcion": exc.description,
                "factura": {"numeroRegistro": number, "codigo": None},
            }
        return {
            "codigo": "0",
            "descripcion": "Correcto",
            "factura": {"numeroRegistro": number, "codigo": code},
        }

    def _queue_row(self, inv: FaceInvoice, **extra: Any) -> Answer:
        office = inv.doc.office
        return {
            "numeroRegistro": inv.registry_number,
            "oficinaContable": office.accounting,
            "organoGestor": office.managing,
            "unidadTramitadora": office.processing,
            **extra,
        }

    def _status_of(self, inv: FaceInvoice) -> Answer:
        reason = inv.history[-1][2] if inv.state in (State.REJECTED, State.CANCELLED) else None
        return {
            "numeroRegistro": inv.registry_number,
            "tramitacion": {
                "codigo": inv.state.value,
                "descripcion": STATE_NAMES[inv.state.value][1],
                "motivo": reason or None,
            },
            "anulacion": {
                "codigo": inv.cancellation.value,
                "descripcion": STATE_NAMES[inv.cancellation.value][1],
                "motivo": inv.cancellation_reason if inv.cancellation is not CancellationState.NONE else None,
            },
        }

    def dispatch(self, operation: str, request: Any) -> Answer:
        handler = self.handlers.get(operation)
        if handler is None:
            raise KeyError(operation)
        with self.lock:
            self._maybe_cancellation_arrives()
            return handler(request)

    def _maybe_cancellation_arrives(self) -> None:
        if (
            not self.config.cancellation_arrival_rate
            or self._rng.random() >= self.config.cancellation_arrival_rate
        ):
            return
        open_ones = [
            i
            for i in self.invoices.values()
            if i.cancellation is CancellationState.NONE
            and i.state in (State.REGISTERED, State.REGISTERED_RCF, State.RECEIVED, State.CONFORMED)
        ]
        if open_ones:
            inv = self._rng.choice(open_ones)
            request_cancellation(inv, self._rng.choice(CANCELLATION_REASONS), self._now_ms())

    def server_time(self) -> float:
        return time.time() + self.clock_offset_seconds


def _field(request: Any, key: str) -> str:
    value = _optional(request, key)
    if not value:
        raise ApiError("310", f"Algún parámetro obligatorio aparece vacío: {key}")
    return value


def _optional(request: Any, key: str) -> str | None:
    value = request.get(key) if isinstance(request, dict) else None
    return value.strip() if isinstance(value, str) else None
