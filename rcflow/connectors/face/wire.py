"""FACe's SOAP 1.1 messages as plain Python values, for both the client and the simulator.

Requests are RPC/literal like FACe's other services: ``<web:OPERATION><request>…</request>
</web:OPERATION>`` in the namespace ``https://webservice.face.gob.es``, SOAPAction
``https://webservice.face.gob.es#OPERATION``. Answers are ``<ns:OPERATIONResponse><return>…``
with ``resultado{codigo, descripcion, codigoSeguimiento}`` first. Element names follow FACe's
recorded answers (``facturas/solicitarNuevasFacturas``, ``estados/Estado``, ``relaciones/OGUTOC``,
``anexos/anexo``); the list-request element names (``factura``, ``numeroRegistro``) are this
module's reading of the service and live only here, so a correction is one edit.

Values map to XML simply: a ``dict`` is an element with children, a ``list`` repeats its element,
``None`` is an empty element, anything else is text. Reading back, an element with children is a
dict (repeated names become lists) and a leaf is its text (``None`` when empty or ``xsi:nil``).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from rcflow.connectors.face.wsse import SOAP_NS

FACE_NS = "https://webservice.face.gob.es"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

OPERATIONS = (
    "solicitarNuevasFacturas",
    "descargarFactura",
    "confirmarDescargaFactura",
    "cambiarEstadoFactura",
    "cambiarEstadoListadoFacturas",
    "consultarFactura",
    "consultarListadoFacturas",
    "consultarCodigoRCF",
    "cambiarCodigoRCF",
    "consultarEstados",
    "consultarUnidades",
    "solicitarNuevasAnulaciones",
    "gestionarSolicitudAnulacionFactura",
    "gestionarSolicitudAnulacionListadoFacturas",
    "consultarEstadoCesion",
    "gestionarCesion",
)
# Items of a list request: operation -> element name repeated inside <request>.
LIST_REQUEST_ITEM = {
    "cambiarEstadoListadoFacturas": "factura",
    "gestionarSolicitudAnulacionListadoFacturas": "factura",
    "consultarListadoFacturas": "numeroRegistro",
}

Value = Any  # str | None | dict[str, Value] | list[Value]


def soap_action(operation: str) -> str:
    return f"{FACE_NS}#{operation}"


def new_envelope() -> tuple[etree._Element, etree._Element]:
    """An empty Envelope with Header and Body; returns (envelope, body)."""
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soapenv": SOAP_NS})
    etree.SubElement(envelope, f"{{{SOAP_NS}}}Header")
    return envelope, etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")


def request_envelope(operation: str, request: dict[str, Value] | None) -> etree._Element:
    """The unsigned request envelope for ``operation``."""
    envelope, body = new_envelope()
    call = etree.SubElement(body, f"{{{FACE_NS}}}{operation}", nsmap={"web": FACE_NS})
    if request is not None:
        append(call, "request", request)
    return envelope


def response_envelope(operation: str, answer: dict[str, Value]) -> etree._Element:
    """The unsigned answer envelope (simulator side)."""
    envelope, body = new_envelope()
    call = etree.SubElement(body, f"{{{FACE_NS}}}{operation}Response", nsmap={"ns1": FACE_NS})
    append(call, "return", answer)
    return envelope


def fault_envelope(faultcode: str, faultstring: str) -> bytes:
    """An unsigned SOAP 1.1 Fault (simulator side)."""
    envelope, body = new_envelope()
    fault = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = faultcode
    etree.SubElement(fault, "faultstring").text = faultstring
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def append(parent: etree._Element, name: str, value: Value) -> None:
    if isinstance(value, list):
        for item in value:
            append(parent, name, item)
        return
    element = etree.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            append(element, key, child)
    elif value is not None:
        element.text = str(value)


def read(element: etree._Element) -> Value:
    """The Python value of an element (see the module docstring)."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        if element.get(XSI_NIL) in {"true", "1"}:
            return None
        text = element.text
        return text if text is not None and text.strip() != "" else None
    result: dict[str, Value] = {}
    for child in children:
        key = etree.QName(child).localname
        value = read(child)
        if key in result:
            existing = result[key]  # read() returns a list only for repeated elements
            if isinstance(existing, list):
                existing.append(value)
            else:
                result[key] = [existing, value]
        else:
            result[key] = value
    return result


def items(value: Value) -> list[Any]:
    """A repeated element as a list whatever its count (absent: empty; one: a list of one)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def operation_of(body: etree._Element) -> tuple[str, etree._Element]:
    """The operation name and element of a request Body (simulator side)."""
    calls = [c for c in body if isinstance(c.tag, str)]
    if len(calls) != 1:
        raise ValueError(f"the Body holds {len(calls)} elements, expected one operation")
    return etree.QName(calls[0]).localname, calls[0]


def answer_of(body: etree._Element, operation: str) -> dict[str, Value]:
    """The ``return`` of an answer Body; a Fault raises :class:`SoapFault`."""
    calls = [c for c in body if isinstance(c.tag, str)]
    if not calls:
        raise ValueError("empty SOAP Body")
    first = calls[0]
    if first.tag == f"{{{SOAP_NS}}}Fault":
        raise SoapFault(first.findtext("faultcode") or "?", first.findtext("faultstring") or "")
    if etree.QName(first).localname != f"{operation}Response":
        raise ValueError(f"expected {operation}Response, got {etree.QName(first).localname}")
    returned = first.find("return")
    value = read(returned if returned is not None else first)
    if not isinstance(value, dict):
        raise ValueError("the answer holds no fields")
    return value


class SoapFault(Exception):
    def __init__(self, faultcode: str, faultstring: str):
        self.faultcode, self.faultstring = faultcode.strip(), faultstring.strip()
        super().__init__(f"{self.faultcode}: {self.faultstring}")


def find_fault(envelope: etree._Element) -> SoapFault | None:
    """A Fault in the Body, if any (read before any signature check: faults come unsigned)."""
    fault = envelope.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    if fault is None:
        return None
    return SoapFault(fault.findtext("faultcode") or "?", fault.findtext("faultstring") or "")
