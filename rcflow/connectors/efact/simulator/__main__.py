"""``python -m rcflow.connectors.efact.simulator serve ...`` (the same as ``rcflow hub serve``)."""

from rcflow.connectors.efact.simulator.cli import app

app()
