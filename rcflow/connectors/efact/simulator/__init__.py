"""A faithful, seeded simulator of the eFACT hub's RCF REST API, for tests, demos and benchmarks.

    from rcflow.connectors.efact.simulator import SimConfig, start_simulator

    with start_simulator(SimConfig(seed=1, invoices=500)) as sim:
        sim.base_url        # http://127.0.0.1:PORT/rcf
        sim.hub.inject("PATCH", r"/factura/\\d+$", status=500, times=2)
"""

from rcflow.connectors.efact.simulator.config import DEFAULT_ISSUER, SimConfig
from rcflow.connectors.efact.simulator.faults import Faults, Injection
from rcflow.connectors.efact.simulator.hub import ApiError, Hub
from rcflow.connectors.efact.simulator.server import RunningSimulator, serve, start_simulator

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
