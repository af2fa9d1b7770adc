"""FACe's result codes, invoice states and the transitions its RCF service allows.

Result codes travel as strings (``"0"``, ``"001"``, ``"502"``); ranges: ``001`` undefined, ``1xx``
SOAP security, ``2xx`` the certificate/signature validation service (@firma), ``3xx``–``9xx``
business rules. Descriptions are FACe's own wording as seen in recorded answers and public client
libraries, except 105, 509 and 512: codes whose FACe wording was not available, worded here for the
simulator. Any other code is still classified by its range.
"""

from __future__ import annotations

from enum import StrEnum

OK = "0"

RESULT_DESCRIPTIONS: dict[str, str] = {
    "0": "Correcto",
    "001": "El proceso finalizó con error no determinado",
    "100": "La firma de la petición SOAP no es válida",
    "101": "La petición SOAP viene vacía",
    "102": "La petición SOAP no está bien construida: no se encuentra el SOAP Envelope",
    "103": "La petición SOAP no está bien construida: no se encuentra el SOAP Body",
    "104": "La petición SOAP no está bien construida: no se encuentra el SOAP Header",
    "105": "El certificado de la firma SOAP no está dado de alta en ninguna plataforma",
    "106": "El certificado usado en la firma soap esta en una lista de bloqueo o es de pruebas",
    "200": "Afirma no ha podido obtener información del certificado",
    "201": "No se ha podido procesar la solicitud con Afirma",
    "310": "Algún parámetro obligatorio aparece vacío",
    "411": "No existe o inactiva la Oficina Contable",
    "501": "No se han encontrado facturas asociadas de la oficina contable al RCF",
    "502": "La factura ya ha sido recibida por el RCF, no se puede descargar",
    "505": "Esta transición no esta permitida a través de este web service",
    "509": "Se ha excedido el número máximo de facturas permitidas en la petición",
    "511": "La factura no existe o no tiene permisos",
    "512": "La factura no tiene solicitada la anulación",
}


class Range(StrEnum):
    OK = "ok"
    UNDEFINED = "undefined"
    SECURITY = "soap-security"
    SIGNATURE_SERVICE = "signature-service"
    BUSINESS = "business"


def result_range(code: str) -> Range:
    """The range a result code belongs to (unknown shapes count as undefined)."""
    code = code.strip()
    if code == OK:
        return Range.OK
    if not code.isdigit() or code == "001" or int(code) < 100:
        return Range.UNDEFINED
    value = int(code)
    if value < 200:
        return Range.SECURITY
    if value < 300:
        return Range.SIGNATURE_SERVICE
    return Range.BUSINESS


class State(StrEnum):
    """Processing states (``tramitacion``)."""

    REGISTERED = "1200"
    REGISTERED_RCF = "1300"
    SENT_TO_UNIT = "1400"
    RECEIVED = "2100"
    CONFORMED = "2300"
    RECOGNISED = "2400"
    PAID = "2500"
    REJECTED = "2600"
    CANCELLED = "3100"


class CancellationState(StrEnum):
    """Cancellation states (``anulacion``)."""

    NONE = "4100"
    REQUESTED = "4200"
    ACCEPTED = "4300"
    REJECTED = "4400"


STATE_NAMES: dict[str, tuple[str, str]] = {  # code -> (flow, name)
    "1200": ("ordinario", "Registrada"),
    "1300": ("ordinario", "Registrada en RCF"),
    "1400": ("ordinario", "Verificada en RCF"),
    "2100": ("ordinario", "Recibida en destino"),
    "2300": ("ordinario", "Conformada"),
    "2400": ("ordinario", "Contabilizada la obligación reconocida"),
    "2500": ("ordinario", "Pagada"),
    "2600": ("ordinario", "Rechazada"),
    "3100": ("ordinario", "Anulada"),
    "4100": ("anulación", "No solicitada anulación"),
    "4200": ("anulación", "Solicitada anulación"),
    "4300": ("anulación", "Aceptada anulación"),
    "4400": ("anulación", "Rechazada anulación"),
}

# cambiarEstadoFactura never sets these: 1200 is FACe's, 1300 is confirmarDescargaFactura's,
# 3100 follows an accepted cancellation request.
FORBIDDEN_TARGETS = frozenset({State.REGISTERED, State.REGISTERED_RCF, State.CANCELLED})
FINAL_STATES = frozenset({State.PAID, State.REJECTED, State.CANCELLED})
# Where cambiarEstadoFactura may go from each state (rcflow's reading of FACe's lifecycle).
TRANSITIONS: dict[State, frozenset[State]] = {
    State.REGISTERED: frozenset(),
    State.REGISTERED_RCF: frozenset(
        {State.SENT_TO_UNIT, State.RECEIVED, State.CONFORMED, State.RECOGNISED, State.REJECTED}
    ),
    State.SENT_TO_UNIT: frozenset({State.RECEIVED, State.CONFORMED, State.RECOGNISED, State.REJECTED}),
    State.RECEIVED: frozenset({State.CONFORMED, State.RECOGNISED, State.REJECTED}),
    State.CONFORMED: frozenset({State.RECOGNISED, State.REJECTED}),
    State.RECOGNISED: frozenset({State.PAID}),
    State.PAID: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
}

MAX_NEW_INVOICES = 500  # solicitarNuevasFacturas / solicitarNuevasAnulaciones answer at most this many
MAX_QUERY_BATCH = 500  # consultarListadoFacturas
MAX_CHANGE_BATCH = 100  # cambiarEstadoListadoFacturas / gestionarSolicitudAnulacionListadoFacturas
