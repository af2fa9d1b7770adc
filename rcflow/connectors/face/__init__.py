"""The FACe connector: FACe's RCF web service over signed SOAP, behind rcflow's connector interface.

Owns: the WS-Security signing and verification (:mod:`.wsse`), the SOAP messages (:mod:`.wire`),
FACe's codes and states (:mod:`.codes`), typed answers (:mod:`.models`) and errors (:mod:`.errors`),
the settings ``RCFLOW_FACE_*`` (:mod:`.settings`), the certificate loading (:mod:`.credentials`),
the async client (:mod:`.client`), the connector behind rcflow's connector interface
(:mod:`.connector`, with the record mapping in :mod:`.records`) and a faithful simulator
(:mod:`.simulator`). It imports only the leaves (``rcflow.clock``, ``rcflow.store``,
``rcflow.facturae``, ``rcflow.lifecycle``), ``rcflow.connectors.base`` and, in the simulator, the
eFACT simulator's document generator. See README.md beside this file.

    from rcflow.connectors.face import FaceClient, load_face_settings

    async with FaceClient.from_settings(load_face_settings()) as face:
        page = await face.new_invoices("L01080193")
        invoice = await face.download(page.invoices[0].registry_number)
        ...  # store invoice.document and invoice.annexes durably first, then:
        await face.confirm_download("L01080193", invoice.registry_number, rcf_code)

The core uses ``rcflow.connectors.face.connector.FaceConnector`` (not imported here: the protocol
layer alone stays light).
"""

from rcflow.connectors.face.client import ClientStats, FaceClient
from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.credentials import FaceCredentials, load_credentials, load_trusted_certificates
from rcflow.connectors.face.errors import FaceError
from rcflow.connectors.face.models import (
    Annex,
    CancellationAnswer,
    CancellationPage,
    CancellationRequest,
    CreditAssignment,
    DownloadedInvoice,
    InvoiceStatus,
    ItemResult,
    NewInvoice,
    NewInvoicesPage,
    StateChange,
    StateDefinition,
    StateInfo,
    UnitRelation,
)
from rcflow.connectors.face.settings import FaceSettings, load_face_settings

__all__ = [
    "Annex",
    "CancellationAnswer",
    "CancellationPage",
    "CancellationRequest",
    "CancellationState",
    "ClientStats",
    "CreditAssignment",
    "DownloadedInvoice",
    "FaceClient",
    "FaceCredentials",
    "FaceError",
    "FaceSettings",
    "InvoiceStatus",
    "ItemResult",
    "NewInvoice",
    "NewInvoicesPage",
    "State",
    "StateChange",
    "StateDefinition",
    "StateInfo",
    "UnitRelation",
    "load_credentials",
    "load_face_settings",
    "load_trusted_certificates",
]
