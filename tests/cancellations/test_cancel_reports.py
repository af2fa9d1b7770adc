"""A CANCELLED invoice (FACe 3100: an accepted cancellation request) is out of the PMP, morosity,
the art. 10 list and interest, like a REJECTED one, and listed with its exclusion reason — on
real dbt builds, against a plain-Python expectation, and end to end from the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from cancel_support import PREFIX, open_invoice

from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.simulator import FaceHub
from rcflow.ingest.cancellations import drain_cancellations
from rcflow.push.cancellations import run_send
from rcflow.reports import build_reports
from rcflow.warehouse import Warehouse
from rcflow.warehouse.cancellations import decide
from rcflow.warehouse.tables import TABLES, with_source

pytestmark = pytest.mark.slow
MADRID = ZoneInfo("Europe/Madrid")
ENTITY = "P0800001A"
PERIOD_START, PERIOD_END = date(2025, 1, 1), date(2025, 3, 31)


@dataclass(frozen=True)
class Case:
    invoice_id: str
    euros: int
    states: dict[str, date]  # REGISTERED first; PAID's date is the payment date
    hub_state: str | None = None  # raw.invoices.hub_state when the history does not show it
    hub_state_on: date | None = None


CASES = (
    Case("face:paid", 1000, {"REGISTERED": date(2025, 1, 10), "ACCEPTED": date(2025, 1, 15),
                             "PAID": date(2025, 2, 4)}),
    Case("face:pending", 500, {"REGISTERED": date(2025, 1, 20), "ANNOTATED": date(2025, 1, 21)}),
    # would be pending 86 days and late, but the supplier's cancellation was accepted
    Case("face:cancelled", 4000, {"REGISTERED": date(2025, 1, 2), "ANNOTATED": date(2025, 1, 3),
                                  "ACCEPTED": date(2025, 1, 4), "CANCELLED": date(2025, 3, 20)}),
    # annotated in 2024, never recognised: on the art. 10 list but for the cancellation, which
    # only the hub's current state shows
    Case("face:cancelled_now", 3000, {"REGISTERED": date(2024, 10, 1), "ANNOTATED": date(2024, 10, 2)},
         hub_state="CANCELLED", hub_state_on=date(2025, 2, 1)),
    Case("face:rejected", 700, {"REGISTERED": date(2025, 1, 5), "REJECTED": date(2025, 1, 7)}),
)  # fmt: skip


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), MADRID).astimezone(UTC)


def _load(path: Path) -> Path:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    invoices, states = [], []
    for c in CASES:
        last = list(c.states)[-1]
        invoices.append({
            "invoice_id": c.invoice_id, "invoice_number": c.invoice_id, "issue_date": c.states["REGISTERED"],
            "amount_cents": c.euros * 100, "supplier_nif": "B12345674", "supplier_name": "Proveïdor SL",
            "entity_nif": ENTITY, "registry_number": c.invoice_id.removeprefix(PREFIX),
            "registry_at": _at(c.states["REGISTERED"]), "hub_state": c.hub_state or last,
            "hub_state_at": _at(c.hub_state_on or c.states[last]), "source": "pending", "raw_json": "{}",
            "first_seen_at": now, "fetched_at": now,
        })  # fmt: skip
        for seq, (state, day) in enumerate(c.states.items()):
            states.append({
                "invoice_id": c.invoice_id, "seq": seq, "state": state, "state_at": _at(day),
                "registry_at": _at(day) if state == "REGISTERED" else None,
                "payment_date": day if state == "PAID" else None, "raw_json": "{}", "fetched_at": now,
                "reject_reason": "Duplicada" if state == "REJECTED" else None,
            })  # fmt: skip
    with Warehouse(path) as wh, wh.transaction():
        for name, rows in (("raw.invoices", invoices), ("raw.invoice_states", states)):
            table = pa.Table.from_pylist(rows, schema=TABLES[name].row_schema())
            wh.upsert(name, with_source(table, "face"), list(TABLES[name].key))
    return path


def _expected() -> dict[str, object]:
    """The figures by hand: a REJECTED or CANCELLED invoice (in its history or as the hub's
    current state) counts nowhere; the count starts at conformity (or registry), RD 1040/2017."""
    paid, pending, late, out = [], [], [], {}
    for c in CASES:
        final = {"REJECTED", "CANCELLED"} & ({*c.states} | {c.hub_state})
        if final:
            out[c.invoice_id] = ("CANCELLED" in final and "cancelled") or "rejected"
            continue
        start = max(c.states.get("ACCEPTED", c.states["REGISTERED"]), c.states["REGISTERED"])
        if "PAID" in c.states:
            paid.append((c.euros, (c.states["PAID"] - start).days))
        else:
            days = (PERIOD_END - start).days
            pending.append((c.euros, days))
            late.append(days > 30)

    def ratio(rows: list[tuple[int, int]]) -> Decimal:
        total = sum(e for e, _ in rows)
        return (Decimal(sum(e * d for e, d in rows)) / total).quantize(Decimal("0.01"), ROUND_HALF_UP)

    return {
        "paid": (len(paid), ratio(paid)),
        "pending": (len(pending), ratio(pending)),
        "pmp": ratio(paid + pending),
        "pending_late": sum(late),
        "excluded": out,
    }


def _query(db: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_cancelled_invoices_are_out_of_every_figure_like_rejected_ones(tmp_path: Path) -> None:
    warehouse = _load(tmp_path / "warehouse.duckdb")
    db = tmp_path / "out" / "reports.duckdb"
    build_reports(warehouse, "2025-Q1", tmp_path / "out", reports_db=db)  # dbt's own tests too
    expected = _expected()
    (pmp,) = _query(db, f"select * from main.pmp where entity_nif = '{ENTITY}'")
    assert (pmp["paid_count"], pmp["paid_ratio"]) == expected["paid"]
    assert (pmp["pending_count"], pmp["pending_ratio"]) == expected["pending"]
    assert pmp["pmp"] == expected["pmp"]  # published to 2 decimals, half away from zero
    (morosity,) = _query(db, f"select * from main.morosity where entity_nif = '{ENTITY}'")
    assert morosity["pending_late_count"] == expected["pending_late"]
    listed = {r["invoice_id"] for r in _query(db, "select invoice_id from main.pending_recognition")}
    interest = {r["invoice_id"] for r in _query(db, "select invoice_id from main.late_interest")}
    assert not listed & set(expected["excluded"]) and not interest & set(expected["excluded"])
    status = {r["invoice_id"]: r for r in _query(db, "select * from main.invoice_status")}
    for invoice_id, reason in expected["excluded"].items():  # type: ignore[attr-defined]
        row = status[invoice_id]
        assert (row["exclusion_reason"], row["status"], row["pmp_role"], row["morosity_role"]) == (
            reason, reason.upper(), None, None)  # fmt: skip
        assert row["ageing_bucket"] == reason and row["days_open"] is None and not row["is_overdue"]
    assert status["face:cancelled"]["status_on"] == date(2025, 3, 20)
    assert status["face:cancelled_now"]["status_on"] == date(2025, 2, 1)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "cancelled at the supplier&#39;s request" in html  # the report's list of what is left out


async def drain_cancellations_only(make_face: Callable[[], FaceConnector], wh: Warehouse) -> None:
    face = make_face()
    try:
        await drain_cancellations(face, wh)
    finally:
        await face.aclose()


def test_an_accepted_request_takes_the_invoice_out_of_the_report_end_to_end(
    hub: FaceHub, make_face: Callable[[], FaceConnector], warehouse_path: Path, tmp_path: Path
) -> None:
    number = open_invoice(hub)
    invoice_id = PREFIX + number
    period = datetime.now(MADRID).strftime("%Y-%m")

    def status() -> dict:
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        build_reports(warehouse_path, period, out, reports_db=out / "r.duckdb", checks=False, lang="ca")
        (row,) = _query(
            out / "r.duckdb", f"select * from main.invoice_status where invoice_id = '{invoice_id}'"
        )
        return row | {"dashboard": (out / "dashboard.html").read_text(encoding="utf-8")}

    before = status()
    assert before["exclusion_reason"] is None and before["pmp_role"] == "pending"
    hub.request_cancellation(number, "Import erroni")

    async def flow() -> None:
        face = make_face()
        try:
            with Warehouse(warehouse_path) as wh:
                await drain_cancellations(face, wh)
                decide(wh, invoice_id, "accept", "Import erroni: la tornarà a emetre", decided_by="ana")
                assert (await run_send(face, wh)).sent
        finally:
            await face.aclose()

    with Warehouse(warehouse_path) as wh:
        asyncio.run(drain_cancellations_only(make_face, wh))
    pending_panel = status()["dashboard"]
    assert (
        f'data-cancellation="{invoice_id}"' in pending_panel
        and "<h2>Sol·licituds d'anul·lació</h2>" in pending_panel
    )
    in_memory = tmp_path / "in_memory"  # marts in memory: the panel read through the build's connection
    build_reports(warehouse_path, period, in_memory, checks=False, lang="ca")
    assert f'data-cancellation="{invoice_id}"' in (in_memory / "dashboard.html").read_text(encoding="utf-8")
    asyncio.run(flow())
    after = status()
    assert (after["status"], after["exclusion_reason"], after["pmp_role"]) == ("CANCELLED", "cancelled", None)
    assert f'data-cancellation="{invoice_id}"' not in after["dashboard"]
