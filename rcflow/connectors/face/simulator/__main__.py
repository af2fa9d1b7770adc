"""``python -m rcflow.connectors.face.simulator serve|make-cert …``: FACe on loopback."""

from rcflow.connectors.face.simulator.cli import app

app()
