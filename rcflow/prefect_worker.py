"""``python -m rcflow.prefect_worker [OPTIONS]``: the Prefect process worker for rcflow's deployments.

The same as ``prefect worker start --pool rcflow-process [OPTIONS]`` run from the project folder,
with three things made sure of:

* it stops on SIGTERM. Prefect's worker turns a SIGTERM into a SIGINT to itself, and a process
  started in the background by a script (``cmd &``) inherits SIGINT *ignored*: that SIGINT is then
  dropped and the worker never stops. SIGINT is given back its usual handler here first.
* ``RCFLOW_HOME`` (where ``prefect.yaml``'s pull step runs the flows) defaults to the working
  directory, so flows find the project and its ``.env``;
* Prefect's analytics are off and its server logs quiet (:mod:`rcflow.prefect_env`).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

POOL = "rcflow-process"


def main(argv: list[str]) -> None:
    from rcflow import prefect_env

    prefect_env.apply()
    os.environ.setdefault("RCFLOW_HOME", str(Path.cwd()))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from prefect.cli import app

    pool = [] if {"--pool", "-p"} & set(argv) else ["--pool", POOL]
    sys.argv = ["prefect", "worker", "start", *pool, *argv]
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
