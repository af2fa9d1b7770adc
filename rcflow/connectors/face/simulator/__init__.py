"""A faithful, seeded FACe (RCF web service) for tests, demos and benchmarks.

from rcflow.connectors.face.simulator import FaceHub, FaceSimConfig, make_identity, start_face_simulator

client_id = make_identity("my platform")
hub = FaceHub(FaceSimConfig(seed=1, invoices=50), clients=(client_id.certificate,))
with start_face_simulator(hub) as sim:
    sim.url                                   # http://127.0.0.1:PORT/facturasrcf2
    hub.identity.certificate                  # FACe's signing certificate: pin it in the client
    hub.inject("descargarFactura", status=500, times=2)
    hub.request_cancellation(number, "Factura duplicada")   # arrives during a run
"""

from rcflow.connectors.face.simulator.certs import make_identity, write_pem, write_pkcs12
from rcflow.connectors.face.simulator.data import FaceSimConfig
from rcflow.connectors.face.simulator.server import RunningFaceSimulator, serve, start_face_simulator
from rcflow.connectors.face.simulator.service import ApiError, FaceHub

__all__ = [
    "ApiError",
    "FaceHub",
    "FaceSimConfig",
    "RunningFaceSimulator",
    "make_identity",
    "serve",
    "start_face_simulator",
    "write_pem",
    "write_pkcs12",
]
