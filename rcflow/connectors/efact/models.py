"""Typed models of the hub's answers and of the PATCH payload.

They accept every quirk listed in ``shared/domain/efact.md``: keys with stray spaces, Spanish and
Catalan spellings of the supplier fields, numbers sent as strings, ids sent as numbers, a detail
without ``id``, timestamps with or without milliseconds (naive ones are Europe/Madrid time) and
state names with trailing spaces. An amount that is not finite or whose cents overflow int64 is
refused (the answer is unreadable). A pending-list entry whose ``id`` is null or empty is read (one
such entry must not cost the whole page); the connector skips it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from rcflow.connectors.efact.errors import PayloadError
from rcflow.connectors.efact.states import SETTABLE_STATES, State, parse_state

HUB_TZ = ZoneInfo("Europe/Madrid")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# An amount whose cents do not fit the warehouse's int64 columns (NaN and infinities neither).
_MAX_AMOUNT = Decimal(2**63) / 100

_ALIASES = {
    "nifProveedor": "nifProveidor",
    "nomProveedor": "nomProveidor",
    "numeroRegistreFace": "numeroRegistreFACe",
    "dataRegistreFace": "dataRegistreFACe",
    "descripcioMotiu": "descripcioMotiuRebuig",
}


def _clean_keys(value: Any) -> Any:
    """Strip stray spaces from keys and fold known alternative spellings."""
    if not isinstance(value, dict):
        return value
    if _FIELD_NAMES.issuperset(value):  # every key already a field's own name: nothing to fold
        return value
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key).strip()
        name = _ALIASES.get(name, name)
        if name not in cleaned or cleaned[name] in (None, ""):
            cleaned[name] = item
    return cleaned


def _to_str(value: Any) -> Any:
    if value.__class__ is str:  # the usual case first
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected text, got a boolean")
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _to_datetime(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=HUB_TZ)


def _to_date(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        text = value.strip()
        return date.fromisoformat(text[:10]) if "T" in text else date.fromisoformat(text)
    return value


def _to_decimal(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError("expected an amount, got a boolean")
    try:
        amount = (
            Decimal(str(value).strip().replace(",", ".")) if isinstance(value, str) else Decimal(str(value))
        )
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or abs(amount) >= _MAX_AMOUNT:
        raise ValueError(f"amount out of range: {str(value)[:40]!r}")
    return amount


Text = Annotated[str | None, BeforeValidator(_to_str)]
Id = Annotated[str, BeforeValidator(_to_str)]
Timestamp = Annotated[datetime | None, BeforeValidator(_to_datetime)]
Day = Annotated[date | None, BeforeValidator(_to_date)]
Amount = Annotated[Decimal | None, BeforeValidator(_to_decimal)]


class HubRecord(BaseModel):
    """An object of the hub's JSON (an answer, or an item of one), its keys normalised."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, value: Any) -> Any:
        return _clean_keys(value)


class HubModel(HubRecord):
    """A whole answer, which keeps its JSON text. The items inside one are ``HubRecord``s: a
    private attribute costs each instance a Python call, and an item's text is its answer's."""

    _raw: str | None = PrivateAttr(default=None)

    @property
    def raw_json(self) -> str | None:
        """The answer's JSON text exactly as the hub sent it (kept for audit)."""
        return self._raw


def to_cents(amount: Decimal | None) -> int | None:
    if amount is None:
        return None
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


class ErrorBody(HubModel):
    codiError: Annotated[
        int | None, BeforeValidator(lambda v: int(str(v).strip()) if v not in (None, "") else None)
    ] = None  # noqa: E501
    descripcioError: Text = None


class PendingInvoice(HubRecord):
    id: Text = None  # an entry without one cannot be fetched: the connector skips it, the page stands
    nif: Text = None
    oficinaComptable: Text = None
    organGestor: Text = None
    unitatTramitadora: Text = None


class PendingInvoicesPage(HubModel):
    mesFactures: bool = False
    factures: list[PendingInvoice] = Field(default_factory=list)


class AttachmentRef(HubRecord):
    idAdjunt: Id
    nom: Text = None


class InvoiceDetail(HubModel):
    id: Text = None
    numeroFactura: Text = None
    dataFactura: Day = None
    importFactura: Amount = None
    nifProveidor: Text = None
    nomProveidor: Text = None
    nif: Text = None
    nom: Text = None
    numeroRegistre: Text = None
    dataRegistre: Timestamp = None
    numeroRegistreRCF: Text = None
    oficinaComptable: Text = None
    organGestor: Text = None
    unitatTramitadora: Text = None
    estat: Text = None
    dataEstat: Timestamp = None
    codiMotiuRebuig: Text = None
    descripcioMotiuRebuig: Text = None
    dataPagament: Day = None
    numeroRegistreFACe: Text = None
    dataRegistreFACe: Timestamp = None
    adjunts: list[AttachmentRef] = Field(default_factory=list)

    @property
    def state(self) -> State | None:
        return parse_state(self.estat) if self.estat else None

    @property
    def amount_cents(self) -> int | None:
        return to_cents(self.importFactura)


class StateEntry(HubRecord):
    estat: Id
    codiEstat: Text = None
    dataEstat: Timestamp = None
    numeroRegistre: Text = None
    dataRegistre: Timestamp = None
    numeroRegistreRCF: Text = None
    codiMotiuRebuig: Text = None
    descripcioMotiuRebuig: Text = None
    dataPagament: Day = None

    @property
    def state(self) -> State:
        return parse_state(self.estat)


class StateHistory(HubModel):
    estats: list[StateEntry] = Field(default_factory=list)


class PendingAttachment(HubRecord):
    idAdjunt: Id
    idFactura: Id
    nom: Text = None


class PendingAttachmentsPage(HubModel):
    mesAdjunts: bool = False
    adjunts: list[PendingAttachment] = Field(default_factory=list)


class Entity(HubRecord):
    nif: Id
    nom: Text = None
    ine10: Text = None


class EntityList(HubModel):
    ens: list[Entity] = Field(default_factory=list)


# Every field name of the models above: a dict whose keys are all among them needs no cleaning
# (none has a stray space, none is an alternative spelling).
_FIELD_NAMES = frozenset(
    name
    for model in (ErrorBody, PendingInvoice, PendingInvoicesPage, AttachmentRef, InvoiceDetail,
                  StateEntry, StateHistory, PendingAttachment, PendingAttachmentsPage, Entity, EntityList)
    for name in model.model_fields
)  # fmt: skip


class StateUpdate(BaseModel):
    """A PATCH /factura/:id payload, validated so the hub never refuses it through our fault."""

    model_config = ConfigDict(frozen=True)

    state: State
    rcf_number: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    payment_date: str | None = None

    @model_validator(mode="after")
    def _check(self) -> StateUpdate:
        if self.state not in SETTABLE_STATES:
            raise PayloadError(3001, f"state {self.state.value} cannot be set through the API")
        if self.state is State.ANNOTATED and not (self.rcf_number or "").strip():
            raise PayloadError(3002, "ANNOTATED needs numeroRegistreRCF")
        if self.state is State.REJECTED and not (self.reason or "").strip():
            raise PayloadError(3003, "REJECTED needs descripcioMotiuRebuig")
        if self.state is not State.REJECTED and (self.reason or self.reason_code):
            raise PayloadError(3008, "a rejection reason may only be sent with REJECTED")
        if self.state is State.PAID:
            if not self.payment_date:
                raise PayloadError(3004, "PAID needs dataPagament")
            if not _DATE_RE.match(self.payment_date):
                raise PayloadError(3006, f"dataPagament {self.payment_date!r} is not YYYY-MM-DD")
            try:
                date.fromisoformat(self.payment_date)
            except ValueError:
                raise PayloadError(3006, f"dataPagament {self.payment_date!r} is not a date") from None
        elif self.payment_date:
            raise PayloadError(3001, "dataPagament may only be sent with PAID")
        if self.rcf_number and self.state is not State.ANNOTATED:
            raise PayloadError(3001, "numeroRegistreRCF may only be sent with ANNOTATED")
        return self

    @classmethod
    def build(
        cls,
        state: State | str,
        *,
        rcf_number: str | None = None,
        reason_code: str | None = None,
        reason: str | None = None,
        payment_date: date | str | None = None,
    ) -> StateUpdate:
        """Validate and build; raises :class:`PayloadError` with the hub code it would have hit."""
        try:
            parsed = state if isinstance(state, State) else parse_state(str(state))
        except ValueError:
            raise PayloadError(3001, f"unknown state {state!r}") from None
        if isinstance(payment_date, date):
            payment_date = payment_date.isoformat()
        return cls(
            state=parsed,
            rcf_number=rcf_number or None,
            reason_code=reason_code or None,
            reason=reason or None,
            payment_date=payment_date or None,
        )

    def to_json(self) -> dict[str, str]:
        """The body as the hub expects it (clean keys, no stray spaces)."""
        body = {"estat": self.state.value}
        if self.rcf_number:
            body["numeroRegistreRCF"] = self.rcf_number.strip()
        if self.reason_code:
            body["codiMotiuRebuig"] = self.reason_code.strip()
        if self.reason:
            body["descripcioMotiuRebuig"] = self.reason.strip()
        if self.payment_date:
            body["dataPagament"] = self.payment_date
        return body
