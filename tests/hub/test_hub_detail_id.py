"""An invoice's detail must be that invoice's: the client refuses one carrying another id.

Ids are the hub's text, compared as listed (stray spaces aside): a zero-padded id is another id.
"""

from __future__ import annotations

import json

import pytest
from hub_support import client

from rcflow.connectors.efact import HubProtocolError, State, StateUpdate
from rcflow.connectors.efact.simulator.server import RunningSimulator


def _pending(sim: RunningSimulator) -> str:
    return sim.hub.pending_ids()[0]


@pytest.mark.parametrize("carried", ["0{id}", "999999999", "{id}", " {id} ", None])
async def test_a_detail_is_its_invoice_s_or_refused(sim: RunningSimulator, carried: str | None) -> None:
    invoice_id = _pending(sim)
    detail = dict(sim.hub.detail(invoice_id))
    detail.pop("id")
    if carried is not None:
        detail["id"] = carried.format(id=invoice_id)
    sim.hub.inject("GET", rf"^/factura/{invoice_id}$", status=200, body=json.dumps(detail).encode())
    async with client(sim) as hub:
        if carried in ("{id}", " {id} ", None):  # the same id, or none (filled from the request)
            assert (await hub.invoice(invoice_id)).id == invoice_id
            return
        with pytest.raises(HubProtocolError, match=f"detail of invoice '{detail['id']}', not '{invoice_id}'"):
            await hub.invoice(invoice_id)


async def test_a_patch_answered_with_another_invoice_s_detail_is_refused(sim: RunningSimulator) -> None:
    invoice_id = _pending(sim)
    other = dict(sim.hub.detail(invoice_id), id="0" + invoice_id, estat="DELIVERED")
    sim.hub.inject("PATCH", rf"^/factura/{invoice_id}$", status=200, body=json.dumps(other).encode())
    async with client(sim) as hub:
        with pytest.raises(HubProtocolError, match="detail of invoice"):
            await hub.update_state(invoice_id, StateUpdate.build(State.DELIVERED))
