"""Sending a legal document for signature and collecting it: the record in a real warehouse, the
blobs in the store, the efirma GO simulator over loopback, and a crash between sending and recording."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from efirma_support import make_pdf

from rcflow.signing.efirma.client import EfirmaClient
from rcflow.signing.efirma.simulator import RunningEfirma
from rcflow.signing.signer import Signatory, SignatureRequest
from rcflow.signing.workflow import Outgoing, collect, reference_for, send_document
from rcflow.store import BlobStore
from rcflow.warehouse import Warehouse
from rcflow.warehouse.signatures import requests

PEOPLE = (
    ("Interventor/a", Signatory("Marta", "intervencio@aj.cat", surname1="Puig", phone="+34600111222")),
    ("Tresorer/a", Signatory("Jordi", "tresoreria@aj.cat", order=2)),
)


def _outgoing(pdf: bytes, period: str = "2025-11") -> Outgoing:
    return Outgoing(document="pmp", period=period, lang="ca", title=f"PMP {period}", pdf=pdf,
                    signatories=PEOPLE, placements=((1, 80, 300), (1, 80, 500)))  # fmt: skip


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    with Warehouse(tmp_path / "warehouse.duckdb", publish=False) as wh:
        yield wh


def _events(wh: Warehouse, reference: str) -> list[str]:
    sql = "select state from ops.signature_events where reference = ? order by event_at"
    return [row[0] for row in wh.fetch(sql, [reference])]


def test_send_then_collect_the_signed_pdf(
    warehouse: Warehouse, tmp_path: Path, efirma: RunningEfirma, client: EfirmaClient
) -> None:
    store = BlobStore(tmp_path / "store")
    pdf = make_pdf()
    record = send_document(warehouse.con, store, client, _outgoing(pdf))
    assert record.state == "in_process" and record.operation_id in efirma.sim.documents
    assert record.sent_sha256 == hashlib.sha256(pdf).hexdigest() and store.get(record.sent_sha256) == pdf
    sent = efirma.sim.documents[record.operation_id]
    assert sent.keys["rcflow_ref"] == record.reference == reference_for("pmp", "2025-11", "ca", pdf)
    assert [p["firma_multiple"] for b in sent.blocks for p in b["destinatarios"]] == [
        [{"pagina": 1, "coordenada_x": 80, "coordenada_y": 300}],
        [{"pagina": 1, "coordenada_x": 80, "coordenada_y": 500}],
    ]

    assert collect(warehouse.con, store, client).waiting == [record.reference]
    efirma.sim.act(record.operation_id, "sign")
    outcome = collect(warehouse.con, store, client)
    assert outcome.signed == [record.reference]
    [done] = requests(warehouse.con)
    assert (
        done.state == "signed"
        and store.get(done.signed_sha256) == efirma.sim.documents[done.operation_id].signed_pdf
    )
    assert efirma.sim.documents[done.operation_id].downloaded
    assert _events(warehouse, record.reference) == ["sending", "in_process", "signed"]
    assert collect(warehouse.con, store, client).signed == []  # nothing open any more


def test_a_document_is_sent_once_per_period_unless_a_new_version_is_asked(
    warehouse: Warehouse, tmp_path: Path, efirma: RunningEfirma, client: EfirmaClient
) -> None:
    store = BlobStore(tmp_path / "store")
    first = send_document(warehouse.con, store, client, _outgoing(make_pdf()))
    rebuilt = make_pdf(pages=2)  # the same document built again (another generation time)
    assert send_document(warehouse.con, store, client, _outgoing(rebuilt)).reference == first.reference
    assert len(efirma.sim.documents) == 1
    send_document(warehouse.con, store, client, _outgoing(make_pdf(), period="2025-12"))
    newer = send_document(warehouse.con, store, client, _outgoing(rebuilt), new_version=True)
    assert newer.reference != first.reference and len(efirma.sim.documents) == 3
    efirma.sim.act(first.operation_id, "reject")
    collect(warehouse.con, store, client)
    assert send_document(warehouse.con, store, client, _outgoing(rebuilt)).reference == newer.reference


class _DiesAfterSending:
    """The service answered, then the process died before recording the answer."""

    def __init__(self, inner: EfirmaClient) -> None:
        self.inner, self.service = inner, inner.service

    def send(self, request: SignatureRequest) -> str:
        self.inner.send(request)
        raise SystemExit("killed")


@pytest.mark.parametrize("recovery", ["send again", "collect"])
def test_a_crash_between_sending_and_recording_sends_nothing_twice(
    warehouse: Warehouse, tmp_path: Path, efirma: RunningEfirma, client: EfirmaClient, recovery: str
) -> None:
    store = BlobStore(tmp_path / "store")
    with pytest.raises(SystemExit):
        send_document(warehouse.con, store, _DiesAfterSending(client), _outgoing(make_pdf()))  # type: ignore[arg-type]
    [stuck] = requests(warehouse.con)
    assert stuck.state == "sending" and stuck.operation_id is None and len(efirma.sim.documents) == 1
    if recovery == "send again":  # rebuilt meanwhile: the PDF recorded is the one completed
        record = send_document(warehouse.con, store, client, _outgoing(make_pdf(pages=3)))
        assert record.sent_sha256 == stuck.sent_sha256
    else:
        collect(warehouse.con, store, client)
        [record] = requests(warehouse.con)
    assert record.state == "in_process" and record.operation_id == next(iter(efirma.sim.documents))
    assert len(efirma.sim.documents) == 1


@pytest.mark.parametrize(("action", "state"), [("reject", "rejected"), ("cancel", "cancelled")])
def test_a_refused_signature_is_recorded(
    warehouse: Warehouse, tmp_path: Path, efirma: RunningEfirma, client: EfirmaClient, action: str, state: str
) -> None:
    store = BlobStore(tmp_path / "store")
    record = send_document(warehouse.con, store, client, _outgoing(make_pdf()))
    efirma.sim.act(record.operation_id, action)
    outcome = collect(warehouse.con, store, client)
    assert getattr(outcome, state) == [record.reference]
    [done] = requests(warehouse.con)
    assert done.state == state and done.signed_sha256 is None
