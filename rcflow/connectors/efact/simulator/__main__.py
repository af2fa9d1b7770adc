"""``python -m rcflow.connectors.efact.simulator serve ...`` (the same as ``rcflow hub serve``).

An entry point, imported by nothing: the command itself is the command line's
(:mod:`rcflow.cli.hub_cmds`), like every rcflow command.
"""

from rcflow.cli.hub_cmds import app

app()
