"""``python -m rcflow.simulator serve ...`` (the same as ``rcflow hub serve``)."""

from rcflow.simulator.cli import app

app()
