"""The hub's error catalogue and error bodies (with the spec's own inconsistencies as quirks)."""

from __future__ import annotations

import json
import random

MESSAGES: dict[int, str] = {
    1001: "No s'ha especificat un token d'autenticació",
    1002: "No s'ha especificat un usuari",
    1003: "Usuari no vàlid",
    1004: "No s'ha especificat una data d'expiració del token",
    1005: "No s'ha especificat una data de creació del token",
    1006: "No s'ha especificat una data d'activació del token",
    1007: "No s'ha especificat el camp audience del token",
    1008: "El token ha expirat",
    1009: "El token encara no pot ser utilitzat",
    1010: "El temps d'expiració del token és superior al permès",
    1011: "El camp audience especificat no és vàlid",
    1012: "El secret no és vàlid",
    2001: "No s'ha trobat la factura especificada",
    2002: "No s'ha trobat el document adjunt especificat",
    2003: "No s'ha trobat un historico d'estats per a la factura",
    3001: "L'estat proporcionat no és vàlid",
    3002: "Per a actualitzar l'estat de la factura a ANNOTATED, és necessari especificar un "
          "número de registre",
    3003: "Per a actualitzar l'estat de la factura a REJECTED, és necessari especificar un "
          "motiu de rebuig",
    3004: "Per a actualitzar l'estat de la factura a PAID, és necessari especificar una data "
          "de pagament",
    3005: "La factura especificada no té número de registre",
    3006: "La data de pagament especificada no compleix el format esperat",
    3007: "No és possible actualitzar la factura especificada",
    3008: "El motiu de rebuig només es pot informar per a l'estat REJECTED",
    9001: "S'ha produït un error intern de connexió amb la base de dades",
    9002: "S'ha produït un error en la generació del rebut electrònic de la factura",
    9999: "S'ha produït un error inesperat en l'execució de l'operació sol·licitada",
}


def status_for(code: int) -> int:
    """The HTTP status the spec gives each error family."""
    return {1: 401, 2: 404, 3: 400}.get(code // 1000, 500)


class ErrorWriter:
    """Renders error bodies; with quirks on, a seeded share of them is odd in the spec's ways."""

    def __init__(self, seed: int, quirks: bool) -> None:
        self._rng = random.Random(f"{seed}/errors")
        self.quirks = quirks

    def body(self, code: int | str, description: str | None = None) -> bytes:
        text = description if description is not None else MESSAGES.get(int(code), "Error")
        value: int | str = code
        key = "descripcioError"
        if self.quirks:
            if self._rng.random() < 0.3:
                value = str(code)
            if self._rng.random() < 0.2:
                key = " descripcioError"
        return json.dumps({"codiError": value, key: text}, ensure_ascii=False).encode()
