"""``python -m rcflow.connectors.face.simulator [options]``: the same as ``rcflow hub serve --hub face``.

An entry point, imported by nothing: the command itself is the command line's
(:mod:`rcflow.cli.hub_cmds`), like every rcflow command.
"""

import sys

from rcflow.cli.hub_cmds import app

app(["serve", "--hub", "face", *sys.argv[1:]])
