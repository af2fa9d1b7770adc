"""Which column is which: the built-in Catalan/Spanish/English names and an ERP's own mapping file.

Header names are compared *normalised*: accents, case, spaces and punctuation are ignored, so
``Número de registre``, ``numero_de_registre`` and ``NUMERO DE REGISTRE`` are one name. State and
exclusion values are matched the same way. A mapping file (YAML, ``--mapping erp.yml``) adds an
ERP's own names; it wins over the built-in table::

    columns:              # rcflow name: the ERP's header (one name or a list)
      invoice_id: Id eFACT
      date: [Data comptable, F. pago]
    states:               # rcflow state (or cancellation decision): the ERP's own words
      PAID: [Pagat, PG]
      CANCELLATION_ACCEPTED: Anul·lació OK
    exclusions:           # rcflow exclusion reason: the ERP's own words
      embargo: EMB
    encoding: windows-1252  # optional: as --encoding
    separator: ";"          # optional: as --separator
    sheet: Events           # optional: the XLSX sheet (default: the first)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rcflow.config import ConfigError
from rcflow.lifecycle import State

# rcflow's name -> the names an export may use (rcflow's own name always counts).
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "invoice_id": ("id", "hub_id", "id_efact", "id factura", "identificador", "identificador factura"),
    "registry_number": ("número de registre", "num registre", "registre", "número de registro",
                        "num registro", "registro", "numeroRegistre"),
    "state": ("estat", "estado", "status"),
    "date": ("data", "fecha", "event_date", "data estat", "fecha estado", "data de l'estat", "data pagament",
             "fecha pago", "payment_date"),
    "rcf_number": ("numeroRegistreRCF", "número de registre rcf", "número rcf", "num rcf",
                   "registre comptable", "número de registre comptable", "número de registro rcf",
                   "registro contable", "número de registro contable", "código rcf"),
    "reason_code": ("codiMotiuRebuig", "codi motiu", "codi de motiu",
                    "código motivo", "código de motivo", "código motivo rechazo"),
    "reason": ("descripcioMotiuRebuig", "motiu", "motiu rebuig", "motiu de rebuig", "descripció motiu",
               "motivo", "motivo rechazo", "motivo de rechazo", "descripción motivo", "rejection_reason"),
    "exclusion": ("exclusió", "scope_exclusion", "exclusió àmbit", "exclusión ámbito",
                  "motiu exclusió", "motivo exclusión"),
    "exclusion_note": ("nota exclusió", "nota exclusión", "observacions exclusió",
                       "observaciones exclusión"),
    "amount": ("import", "importe", "total", "import total", "importe total", "import factura",
               "importe factura"),
}
CANONICAL = tuple(COLUMN_NAMES)

# The words an export may use for each state (rcflow's own names always count; RECOGNIZED too).
STATE_NAMES: dict[State, tuple[str, ...]] = {
    State.ANNOTATED: ("anotada", "registrada rcf", "registrada a rcf", "registrada en rcf", "comptabilitzada",
                      "contabilizada"),
    State.RECEIVED: ("rebuda", "recibida"),
    State.ACCEPTED: ("conformada", "acceptada", "aceptada", "conformitat", "conformidad"),
    State.RECOGNISED: ("recognized", "reconeguda", "reconocida", "obligació reconeguda",
                       "obligación reconocida"),
    State.PAID: ("pagada", "pagat", "pagado"),
    State.REJECTED: ("rebutjada", "rebutjat", "rechazada", "rechazado"),
}
ACCOUNTING_STATES = tuple(STATE_NAMES)

# Answers to a supplier's cancellation request (FACe), in the state column; the reason column is
# the comment sent to the hub. They go to ops.cancellation_decisions (via 'accounting'), never to
# ops.accounting_events.
CANCELLATION_ACCEPTED, CANCELLATION_REJECTED = "CANCELLATION_ACCEPTED", "CANCELLATION_REJECTED"
DECISION_NAMES: dict[str, tuple[str, ...]] = {
    CANCELLATION_ACCEPTED: ("anul·lació acceptada", "anul·lació acceptat", "anulació acceptada",
                            "anulación aceptada", "anulación aceptado", "cancellation accepted",
                            "accept cancellation", "acceptar anul·lació", "aceptar anulación"),
    CANCELLATION_REJECTED: ("anul·lació rebutjada", "anulació rebutjada", "anulación rechazada",
                            "cancellation rejected", "reject cancellation", "rebutjar anul·lació",
                            "rechazar anulación"),
}
CANCELLATION_DECISIONS = {CANCELLATION_ACCEPTED: "accept", CANCELLATION_REJECTED: "reject"}

# RD 635/2014 art. 3 exclusions (ops.scope_exclusions.reason) and the words for each; "none"
# withdraws an exclusion an earlier import recorded.
EXCLUSION_NONE = "none"
EXCLUSION_NAMES: dict[str, tuple[str, ...]] = {
    "public_body": ("organisme públic", "ens públic", "sector públic", "administració pública",
                    "organismo público", "ente público", "sector público", "administración pública"),
    "embargo": ("embargament", "diligència d'embargament", "diligencia de embargo", "retenció judicial",
                "retención judicial"),
    "set_off": ("compensació", "compensación"),
    "supplier_fund": ("fons de pagament a proveïdors", "fons proveïdors",
                      "fondo de pagos a proveedores", "fondo proveedores", "ffpp"),
    "other": ("altre", "altres", "otro", "otros", "otra"),
    EXCLUSION_NONE: ("cap", "ninguna", "ninguno", "sense exclusió", "sin exclusión"),
}
EXCLUSION_REASONS = tuple(r for r in EXCLUSION_NAMES if r != EXCLUSION_NONE)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(label: str) -> str:
    """``Número de registre`` -> ``numeroderegistre``: accents, case, spaces, punctuation ignored."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", label) if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", stripped.casefold())


def _table(names: dict, own: bool = True) -> dict[str, object]:
    table: dict[str, object] = {}
    for key, words in names.items():
        for word in ((str(key.value if isinstance(key, State) else key),) if own else ()) + words:
            table[normalise(word)] = key
    return table


class MappingError(ConfigError):
    """The mapping file (or an import option) is not usable; the message names the file and the key."""


@dataclass(frozen=True)
class Mapping:
    """The built-in names plus an ERP's own (``load_mapping``)."""

    columns: dict[str, str] = field(default_factory=lambda: _table(COLUMN_NAMES))  # type: ignore[arg-type]
    # a lifecycle State, or a cancellation decision (CANCELLATION_ACCEPTED / _REJECTED)
    states: dict[str, State | str] = field(
        default_factory=lambda: _table({**STATE_NAMES, **DECISION_NAMES})  # type: ignore[arg-type]
    )
    exclusions: dict[str, str] = field(default_factory=lambda: _table(EXCLUSION_NAMES))  # type: ignore[arg-type]
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    source: str | None = None

    def column(self, label: str) -> str | None:
        return self.columns.get(normalise(label))

    def state(self, value: str) -> State | str | None:
        return self.states.get(normalise(value))

    def exclusion(self, value: str) -> str | None:
        return self.exclusions.get(normalise(value))


BUILT_IN = Mapping()
_MAPPING_KEYS = {"columns", "states", "exclusions", "encoding", "separator", "sheet"}


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; raises :class:`MappingError` naming what is wrong."""
    where = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{where}: cannot be read: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{where}: expected a YAML mapping with columns:, states:, exclusions:")
    unknown = set(data) - _MAPPING_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    columns = dict(BUILT_IN.columns)
    columns.update(_section(data, "columns", {c: c for c in CANONICAL}, where))
    states = dict(BUILT_IN.states)
    targets: dict[str, object] = {s.value: s for s in ACCOUNTING_STATES}
    targets.update({d: d for d in DECISION_NAMES})
    states.update(_section(data, "states", targets, where))
    exclusions = dict(BUILT_IN.exclusions)
    exclusions.update(_section(data, "exclusions", {r: r for r in EXCLUSION_NAMES}, where))
    options = {}
    for key in ("encoding", "separator", "sheet"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise MappingError(f"{where}: {key} must be text")
        options[key] = value
    if options["separator"] is not None and options["separator"] not in (",", ";", "\t", "|"):
        raise MappingError(f"{where}: separator must be one of ',' ';' '|' or a tab")
    return Mapping(columns, states, exclusions, source=where, **options)  # type: ignore[arg-type]


def _section(data: dict, key: str, targets: dict[str, object], where: str) -> dict[str, object]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise MappingError(f"{where}: {key} must map rcflow names to the file's names")
    out: dict[str, object] = {}
    for name, words in section.items():
        if str(name) not in targets:
            expected = ", ".join(targets)
            raise MappingError(f"{where}: {key}: unknown name {name!r} (expected one of {expected})")
        for word in [words] if isinstance(words, str | int) else (words or []):
            if isinstance(word, bool) or not isinstance(word, str | int) or not normalise(str(word)):
                # YAML reads unquoted yes/no/on/off as booleans: the ERP's word must be quoted
                raise MappingError(f"{where}: {key}: {name}: {word!r} is not a name (quote it)")
            out[normalise(str(word))] = targets[str(name)]
    return out
