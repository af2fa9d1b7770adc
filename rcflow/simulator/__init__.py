"""A faithful, seeded simulator of the eFACT hub's RCF REST API, for tests, demos and benchmarks.

    from rcflow.simulator import SimConfig, start_simulator

    with start_simulator(SimConfig(seed=1, invoices=500)) as sim:
        sim.base_url        # http://127.0.0.1:PORT/rcf
        sim.hub.inject("PATCH", r"/factura/\\d+$", status=500, times=2)
"""

from rcflow.simulator.config import DEFAULT_ISSUER, SimConfig
from rcflow.simulator.faults import Faults, Injection
from rcflow.simulator.hub import ApiError, Hub
from rcflow.simulator.server import RunningSimulator, serve, start_simulator

__all__ = [
    "DEFAULT_ISSUER",
    "ApiError",
    "Faults",
    "Hub",
    "Injection",
    "RunningSimulator",
    "SimConfig",
    "serve",
    "start_simulator",
]
