"""The `rcflow` command line: the top layer, and the only one that talks to a terminal.

Owns every command (``*_cmds.py``, wired in :mod:`rcflow.cli.main`), the one error format (a
line beginning ``rcflow:``) and exit-code scheme (:mod:`rcflow.cli.common`), rich and ``--json``
output, stderr hushing, and the demo (:mod:`rcflow.cli.demo`).

May import every ``rcflow`` package, and ``flows/`` (the demo and ``rcflow run`` start Prefect
flows). Nothing outside this package imports it, except ``tests/`` and ``bench/`` scripts
(``tests/core/test_layers.py`` enforces it).
"""
