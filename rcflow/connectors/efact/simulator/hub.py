"""The simulated hub: queues, invoice details, state updates and their rules, test controls.

Every public API operation returns plain data or raises ``ApiError(code)``; HTTP lives in
``app.py``. All mutations happen under one lock, so tests may drive the hub from another
thread while the server runs.
"""

from __future__ import annotations

import random
import re
import threading
import time
from datetime import date
from typing import Any

from rcflow.connectors.efact.simulator.auth import Issuers
from rcflow.connectors.efact.simulator.clock import fmt_ts, now_ms
from rcflow.connectors.efact.simulator.config import SimConfig
from rcflow.connectors.efact.simulator.data import (
    Dataset,
    add_generated_attachment,
    add_runtime_invoices,
    build_dataset,
)
from rcflow.connectors.efact.simulator.documents import Body, attachment_body, receipt_pdf
from rcflow.connectors.efact.simulator.errors import ErrorWriter
from rcflow.connectors.efact.simulator.facturae import money, render_facturae
from rcflow.connectors.efact.simulator.faults import FaultEngine, Faults, Injection
from rcflow.connectors.efact.simulator.models import (
    Q_AMOUNT_STR,
    Q_NO_ID,
    Q_NO_MILLIS,
    Q_PROVEEDOR,
    Attachment,
    Invoice,
    StateEntry,
)
from rcflow.connectors.efact.simulator.requestlog import RequestLog
from rcflow.connectors.efact.states import (
    DOWNLOADED_STATES,
    SETTABLE_STATES,
    TERMINAL_STATES,
    State,
    rank,
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
REASON_KEYS = ("codiMotiuRebuig", "descripcioMotiuRebuig")


class ApiError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _norm_nif(value: str) -> str:
    value = value.strip().upper()
    return value[2:] if value.startswith("ES") and len(value) > 9 else value


def _present(fields: dict[str, Any], key: str) -> bool:
    return fields.get(key) not in (None, "")


class Hub:
    """In-memory eFACT hub for one ``SimConfig``."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.data: Dataset = build_dataset(self.config)
        self.issuers = Issuers(self.config.issuers)
        self.engine = FaultEngine(self.config.faults, self.config.seed)
        self.log = RequestLog(self.config.log_limit)
        self.errors = ErrorWriter(self.config.seed, self.config.quirks)
        self.lock = threading.RLock()
        self.started = time.monotonic()
        self.adjunts_calls = 0
        self.clock_offset_seconds = self.config.clock_offset_seconds  # changeable at runtime
        self._queue: dict[str, Invoice] = {
            i.id: i for i in self.data.invoices.values() if i.pending}
        self._attachment_queue: dict[str, Attachment] = {}
        self._scheduled: list[tuple[int, Attachment]] = []

    def __repr__(self) -> str:
        return (f"Hub(seed={self.config.seed}, invoices={len(self.data.invoices)}, "
                f"pending={len(self._queue)}, issuers={self.issuers.names()})")

    # ------------------------------------------------------------ inspection
    @property
    def today(self) -> date:
        return self.data.today

    @property
    def invoices(self) -> dict[str, Invoice]:
        return self.data.invoices

    @property
    def attachments(self) -> dict[str, Attachment]:
        return self.data.attachments

    @property
    def backfill_ids(self) -> list[str]:
        return self.data.ids("backfill")

    @property
    def unregistered_ids(self) -> list[str]:
        return self.data.ids("unregistered")

    @property
    def hostile_ids(self) -> dict[str, str]:
        return {i.id: i.hostile for i in self.data.invoices.values() if i.hostile}

    @property
    def mismatch_ids(self) -> dict[str, str]:
        return {i.id: i.mismatch for i in self.data.invoices.values() if i.mismatch}

    def pending_ids(self) -> list[str]:
        with self.lock:
            return list(self._queue)

    def pending_attachment_ids(self) -> list[str]:
        with self.lock:
            return list(self._attachment_queue)

    # ------------------------------------------------------------ faults
    @property
    def faults(self) -> Faults:
        return self.engine.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.engine.faults = value

    def inject(self, method: str | None = None, path_regex: str | None = None,
               **options: Any) -> Injection:
        """Give the next matching requests a fault, e.g. ``inject("PATCH", r"/factura/\\d+$",
        status=500, times=2)``; options: status, code, body, headers, drop, partial, after,
        delay_ms, times (None: forever)."""
        return self.engine.inject(Injection(method=method, path_regex=path_regex, **options))

    def clear_injections(self) -> None:
        self.engine.clear()

    # ------------------------------------------------------------ API operations
    def invoice(self, invoice_id: str) -> Invoice:
        inv = self.data.invoices.get(invoice_id)
        if inv is None:
            raise ApiError(2001)
        return inv

    def pending_invoices(self, nif: str | None, office: str | None) -> dict[str, Any]:
        with self.lock:
            found = self._select(self._queue.values(), nif, office)
        return {
            "mesFactures": len(found) > self.config.page_size,
            "factures": [
                {"id": i.id, "nif": i.entity.nif, "oficinaComptable": i.office.accounting,
                 "organGestor": i.office.managing, "unitatTramitadora": i.office.processing}
                for i in found[: self.config.page_size]
            ],
        }

    def _select(self, invoices: Any, nif: str | None, office: str | None) -> list[Invoice]:
        want_nif = _norm_nif(nif) if nif else None
        want_office = office.strip().upper() if office else None
        limit = self.config.page_size + 1
        found: list[Invoice] = []
        for inv in invoices:
            if want_nif and inv.entity.cif != want_nif:
                continue
            if want_office and inv.office.accounting != want_office:
                continue
            found.append(inv)
            if len(found) == limit:
                break
        return found

    def detail(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            return self._detail(self.invoice(invoice_id))

    def _detail(self, inv: Invoice) -> dict[str, Any]:
        q = inv.quirks if self.config.quirks else 0
        out: dict[str, Any] = {} if q & Q_NO_ID else {"id": inv.id}
        out["numeroFactura"] = inv.number
        out["dataFactura"] = inv.issue_date.isoformat()
        out["importFactura"] = money(inv.amount_cents) if q & Q_AMOUNT_STR \
            else inv.amount_cents / 100
        spelling = "Proveedor" if q & Q_PROVEEDOR else "Proveidor"
        out["nif" + spelling] = inv.supplier.nif
        out["nom" + spelling] = inv.supplier.name
        out["nif"] = inv.entity.nif
        out["nom"] = inv.entity.name
        if inv.registry_number and inv.registry_ms:
            out["numeroRegistre"] = inv.registry_number
            out["dataRegistre"] = fmt_ts(inv.registry_ms)
        annotated = inv.last(State.ANNOTATED)
        if annotated is not None and annotated.rcf_number:
            out["numeroRegistreRCF"] = annotated.rcf_number
        out["oficinaComptable"] = inv.office.accounting
        out["organGestor"] = inv.office.managing
        out["unitatTramitadora"] = inv.office.processing
        current = inv.history[-1]
        out["estat"] = current.state.value
        out["dataEstat"] = fmt_ts(current.at_ms, millis=not q & Q_NO_MILLIS)
        if current.state is State.REJECTED:
            if current.reason_code:
                out["codiMotiuRebuig"] = current.reason_code
            out["descripcioMotiuRebuig"] = current.reason
        paid = inv.last(State.PAID)
        if paid is not None and paid.payment_date:
            out["dataPagament"] = paid.payment_date
        if inv.face_number and inv.face_ms:
            out["numeroRegistreFACe"] = inv.face_number
            out["dataRegistreFACe"] = fmt_ts(inv.face_ms)
        out["adjunts"] = [{"idAdjunt": a.id, "nom": a.name}
                          for a in inv.attachments if a.arrived and not a.released]
        return out

    def history(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            inv = self.invoice(invoice_id)
            entries = inv.history[inv.hidden_history:]
            if not entries:
                raise ApiError(2003)
            millis = not (self.config.quirks and inv.quirks & Q_NO_MILLIS)
            return {"estats": [self._entry(inv, e, millis) for e in entries]}

    @staticmethod
    def _entry(inv: Invoice, e: StateEntry, millis: bool) -> dict[str, Any]:
        item: dict[str, Any] = {"estat": e.state.value, "codiEstat": inv.code_for(e.state),
                                "dataEstat": fmt_ts(e.at_ms, millis=millis)}
        if e.state is State.REGISTERED and inv.registry_ms:
            item["numeroRegistre"] = inv.registry_number
            item["dataRegistre"] = fmt_ts(inv.registry_ms)
        elif e.state is State.ANNOTATED and e.rcf_number:
            item["numeroRegistreRCF"] = e.rcf_number
        elif e.state is State.REJECTED:
            if e.reason_code:
                item["codiMotiuRebuig"] = e.reason_code
            item["descripcioMotiuRebuig"] = e.reason
        elif e.state is State.PAID and e.payment_date:
            item["dataPagament"] = e.payment_date
        return item

    def facturae(self, invoice_id: str) -> bytes:
        return render_facturae(self.invoice(invoice_id), self.config.seed)

    def attachment(self, invoice_id: str, attachment_id: str) -> tuple[Attachment, Body]:
        with self.lock:
            inv = self.invoice(invoice_id)
            att = self.data.attachments.get(attachment_id)
            if att is None or att.invoice_id != inv.id or not att.arrived:
                raise ApiError(2002)
        return att, attachment_body(att, inv, self.config.seed)

    def receipt(self, invoice_id: str) -> bytes:
        inv = self.invoice(invoice_id)
        if inv.registry_number is None:
            raise ApiError(9002)  # no registry entry, nothing to certify
        return receipt_pdf(inv)

    def entities(self) -> dict[str, Any]:
        return {"ens": [{"nif": e.nif, "nom": e.name, "ine10": e.ine10}
                        for e in self.data.entities]}

    def update(self, invoice_id: str, payload: Any) -> dict[str, Any]:
        """PATCH /factura/:id with the spec's rules (3001-3008) and its stray spaces."""
        with self.lock:
            inv = self.invoice(invoice_id)
            if not isinstance(payload, dict):
                raise ApiError(3001)
            fields = {str(k).strip(): v.strip() if isinstance(v, str) else v
                      for k, v in payload.items()}
            try:
                state = State(fields.get("estat"))
            except (ValueError, TypeError):
                raise ApiError(3001) from None
            if state not in SETTABLE_STATES:
                raise ApiError(3001)
            if state is not State.REJECTED and any(_present(fields, k) for k in REASON_KEYS):
                raise ApiError(3008)
            if state is State.ANNOTATED and not _present(fields, "numeroRegistreRCF"):
                raise ApiError(3002)
            if state is State.REJECTED and not _present(fields, "descripcioMotiuRebuig"):
                raise ApiError(3003)
            if state is State.PAID and not _present(fields, "dataPagament"):
                raise ApiError(3004)
            payment = fields.get("dataPagament")
            if _present(fields, "dataPagament") and not _valid_date(payment):
                raise ApiError(3006)
            if inv.registry_number is None:
                raise ApiError(3005)
            current = inv.state
            if current in TERMINAL_STATES or rank(state) <= rank(current):
                raise ApiError(3007)
            entry = StateEntry(state, max(now_ms(), inv.state_ms + 1))
            if state is State.ANNOTATED:
                entry.rcf_number = str(fields["numeroRegistreRCF"])
            elif state is State.REJECTED:
                code = fields.get("codiMotiuRebuig")
                entry.reason_code = str(code) if code not in (None, "") else None
                entry.reason = str(fields["descripcioMotiuRebuig"])
            elif state is State.PAID:
                entry.payment_date = str(payment)
            self._append(inv, entry)
            return self._detail(inv)

    def _append(self, inv: Invoice, entry: StateEntry, leave_queue: bool | None = None) -> None:
        inv.history.append(entry)
        leave = entry.state in DOWNLOADED_STATES if leave_queue is None else leave_queue
        if leave and inv.pending:
            self._leave_queue(inv)

    def _leave_queue(self, inv: Invoice) -> None:
        del self._queue[inv.id]
        inv.pending = False
        inv.delivered_call = self.adjunts_calls
        for att in inv.attachments:
            if att.released:
                continue
            if att.arrived:
                self._attachment_queue[att.id] = att
            else:
                self._scheduled.append(
                    (self.adjunts_calls + self.config.late_attachment_calls, att))

    def pending_attachments(self, nif: str | None, office: str | None) -> dict[str, Any]:
        with self.lock:
            self.adjunts_calls += 1
            self._arrive(lambda due: due <= self.adjunts_calls)
            want_nif = _norm_nif(nif) if nif else None
            want_office = office.strip().upper() if office else None
            found: list[Attachment] = []
            for att in self._attachment_queue.values():
                inv = self.data.invoices[att.invoice_id]
                if want_nif and inv.entity.cif != want_nif:
                    continue
                if want_office and inv.office.accounting != want_office:
                    continue
                found.append(att)
                if len(found) > self.config.page_size:
                    break
        return {
            "mesAdjunts": len(found) > self.config.page_size,
            "adjunts": [{"idAdjunt": a.id, "idFactura": a.invoice_id, "nom": a.name}
                        for a in found[: self.config.page_size]],
        }

    def _arrive(self, due: Any) -> None:
        keep = []
        for when, att in self._scheduled:
            if due(when) and not att.released:
                att.arrived = True
                self._attachment_queue[att.id] = att
            elif not att.released:
                keep.append((when, att))
        self._scheduled = keep

    def release_attachment(self, attachment_id: str) -> None:
        with self.lock:
            att = self.data.attachments.get(attachment_id)
            if att is None or not att.arrived or att.released:
                raise ApiError(2002)
            att.released = True
            self._attachment_queue.pop(att.id, None)

    # ------------------------------------------------------------ test controls
    def add_invoices(self, count: int = 1) -> list[str]:
        """New invoices registered now; they join the end of the pending queue."""
        with self.lock:
            created = add_runtime_invoices(self.config, self.data, count, now_ms())
            for inv in created:
                self._queue[inv.id] = inv
            return [inv.id for inv in created]

    def add_attachment(self, invoice_id: str, name: str = "annex tardà.pdf",
                       content: bytes | None = None) -> str:
        """An attachment arriving now: in the detail, and pending if its invoice left the queue."""
        with self.lock:
            inv = self.invoice(invoice_id)
            att = add_generated_attachment(
                self.config.with_(late_attachment_rate=0.0), self.data, inv,
                random.Random(f"{self.config.seed}/added/{self.data.next_attachment_id}"))
            att.name = name
            if content is not None:
                att.content = content
            if not inv.pending:
                self._attachment_queue[att.id] = att
            return att.id

    def deliver_late_attachments(self) -> int:
        """Make every scheduled late attachment arrive now; returns how many did."""
        with self.lock:
            before = len(self._attachment_queue)
            self._arrive(lambda _due: True)
            return len(self._attachment_queue) - before

    def force_state(self, invoice_id: str, state: State, *, rcf_number: str | None = None,
                    reason_code: str | None = None, reason: str | None = None,
                    payment_date: str | None = None) -> None:
        """Apply a state as the hub operator would, bypassing the PATCH rules."""
        with self.lock:
            inv = self.invoice(invoice_id)
            entry = StateEntry(state, max(now_ms(), inv.state_ms + 1), rcf_number,
                               reason_code, reason, payment_date)
            self._append(inv, entry, leave_queue=state in DOWNLOADED_STATES
                         or state is State.REJECTED)

    def state(self, invoice_id: str) -> dict[str, Any]:
        """Everything the hub holds about one invoice (for tests and ``/_sim/state``)."""
        with self.lock:
            inv = self.invoice(invoice_id)
            return {
                "id": inv.id, "origin": inv.origin, "estat": inv.state.value,
                "pending": inv.pending, "numeroRegistre": inv.registry_number,
                "importFactura": money(inv.amount_cents), "hostile": inv.hostile,
                "mismatch": inv.mismatch, "hiddenHistory": inv.hidden_history,
                "history": [self._entry(inv, e, True) for e in inv.history],
                "attachments": [
                    {"idAdjunt": a.id, "nom": a.name, "kind": a.kind, "size": a.size,
                     "late": a.late, "arrived": a.arrived, "released": a.released,
                     "pending": a.id in self._attachment_queue}
                    for a in inv.attachments
                ],
            }

    def stats(self) -> dict[str, Any]:
        with self.lock:
            by_state: dict[str, int] = {}
            for inv in self.data.invoices.values():
                by_state[inv.state.value] = by_state.get(inv.state.value, 0) + 1
            records = self.log.records()
            by_status: dict[str, int] = {}
            for r in records:
                by_status[str(r.status)] = by_status.get(str(r.status), 0) + 1
            uptime = time.monotonic() - self.started
            return {
                "invoices": len(self.data.invoices), "pending": len(self._queue),
                "pendingAttachments": len(self._attachment_queue),
                "scheduledAttachments": len(self._scheduled), "byState": by_state,
                "requests": len(records), "byStatus": by_status,
                "uptimeSeconds": round(uptime, 3), "adjuntsCalls": self.adjunts_calls,
            }

    def error_body(self, code: int | str, description: str | None = None) -> bytes:
        return self.errors.body(code, description)


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
