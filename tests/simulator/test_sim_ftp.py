"""The FTP mailbox archive used by backfill tests."""

from __future__ import annotations

from datetime import date

from lxml import etree

from rcflow.connectors.efact.simulator import Hub, SimConfig
from rcflow.connectors.efact.simulator.ftp import write_ftp_archive


def test_archive_names_and_feedback(tmp_path) -> None:
    """Facturae files carry the hub id as 4th @-part; status files carry it in HubId."""
    hub = Hub(SimConfig(seed=9, invoices=10, backfill=25, today=date(2025, 6, 30)))
    ids = hub.backfill_ids
    paths = write_ftp_archive(hub, ids, tmp_path / "ftp")
    invoices = [p for p in paths if "@" in p.name]
    feedback = [p for p in paths if p.name.startswith("DeliveryFeedback_")]
    assert len(invoices) == len(feedback) == len(ids)
    from_names = {p.name.rsplit(".", 1)[0].split("@")[3] for p in invoices}
    assert from_names == set(ids)
    assert {p.suffix for p in invoices} == {".xsig", ".xml"}
    for p in invoices:
        issuer, receiver, _reference, hub_id = p.name.rsplit(".", 1)[0].split("@")
        inv = hub.invoices[hub_id]
        assert (issuer, receiver) == (inv.supplier.nif, inv.entity.nif)
        assert p.read_bytes() == hub.facturae(hub_id)
        assert (p.suffix == ".xsig") == inv.signed
    from_feedback = set()
    for p in feedback:
        root = etree.parse(str(p)).getroot()
        hub_id = root.findtext("StatusFeedback/HubFeedback/HubId")
        from_feedback.add(hub_id)
        assert root.findtext("StatusFeedback/HubFeedback/Status") == \
            hub.invoices[hub_id].state.value
        assert hub_id not in p.name
    assert from_feedback == set(ids)
