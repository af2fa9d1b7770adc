"""Answers to cancellation requests from the accounting system's file: the same audit table
(via 'accounting'), the same all-or-nothing import, the same once-only send."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from cancel_support import PREFIX, requested
from typer.testing import CliRunner

from rcflow.cli.main import app
from rcflow.connectors.face.codes import CancellationState, State
from rcflow.connectors.face.connector import FaceConnector
from rcflow.connectors.face.simulator import FaceHub
from rcflow.ingest.cancellations import drain_cancellations
from rcflow.push.accounting import ImportRefused, import_events
from rcflow.push.cancellations import run_send
from rcflow.warehouse import Warehouse

TODAY = date(2030, 1, 1)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def _drained(face: FaceConnector, path: Path) -> None:
    with Warehouse(path) as wh:
        await drain_cancellations(face, wh)


def _decisions(wh: Warehouse) -> list[tuple]:
    return wh.fetch(
        "select invoice_id, decision, comment, via, decided_by, status, import_id is not null"
        " from ops.cancellation_decisions order by invoice_id"
    )


async def test_a_catalan_file_decides_and_the_send_answers_the_hub(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path, tmp_path: Path
) -> None:
    await _drained(face, warehouse_path)
    first, second = requested(hub)
    other = next(
        n for n, i in sorted(hub.invoices.items()) if i.state is State.RECEIVED and n not in (first, second)
    )
    f = _write(
        tmp_path,
        "comptabilitat.csv",
        "Número de registre;Estat;Data;Motiu\n"
        f"{first};Anul·lació acceptada;;Factura duplicada\n"
        f"{second};anul·lació rebutjada;15/03/2025;La factura és correcta\n"
        f"{other};reconeguda;15/03/2025;\n",
        "windows-1252",
    )
    with Warehouse(warehouse_path) as wh:
        result = import_events(wh, f, today=TODAY)
        assert (result.cancellation_decisions, result.new_events) == (2, 1)
        assert wh.fetch("select invoice_id, state from ops.accounting_events") == [
            (PREFIX + other, "RECOGNISED")
        ]
        by = "accounting import comptabilitat.csv"
        assert _decisions(wh) == [
            (PREFIX + first, "accept", "Factura duplicada", "accounting", by, "pending", True),
            (PREFIX + second, "reject", "La factura és correcta", "accounting", by, "pending", True),
        ]
        assert import_events(wh, f, today=TODAY).already_imported
        summary = await run_send(face, wh)
        assert sorted(s["invoice_id"] for s in summary.sent) == [PREFIX + first, PREFIX + second]
        # a later export repeating answers the hub already has: skipped, not refused
        again = _write(
            tmp_path,
            "again.csv",
            f"invoice_id,state,reason\n{PREFIX}{first},CANCELLATION_ACCEPTED,Factura duplicada\n",
        )
        assert import_events(wh, again, today=TODAY).cancellation_decisions == 0
        assert wh.fetch("select hub_state from raw.invoices where invoice_id = ?", [PREFIX + first]) == [
            ("CANCELLED",)
        ]
    assert (hub.invoice(first).state, hub.invoice(second).cancellation) == (
        State.CANCELLED,
        CancellationState.REJECTED,
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("{first},CANCELLATION_ACCEPTED,\n", "CANCELLATION_ACCEPTED without reason (the comment sent"),
        ("{closed},CANCELLATION_REJECTED,no\n", "no open cancellation request"),
        ("{first},CANCELLATION_ACCEPTED,a\n{first},CANCELLATION_REJECTED,b\n",
         "contradictory answers to the cancellation request of invoice face:"),
        ("{first},ANUL·LADA DEL TOT,a\n", "unknown state 'ANUL·LADA DEL TOT'"),
    ],
)  # fmt: skip
async def test_a_bad_answer_refuses_the_whole_file(
    face: FaceConnector, hub: FaceHub, warehouse_path: Path, tmp_path: Path, rows: str, expected: str
) -> None:
    await _drained(face, warehouse_path)
    first = requested(hub)[1]
    closed = next(n for n, i in sorted(hub.invoices.items()) if i.cancellation is CancellationState.NONE)
    body = "registry_number,state,reason\n" + rows.format(first=first, closed=closed)
    f = _write(tmp_path, "bad.csv", body + f"{requested(hub)[0]},CANCELLATION_REJECTED,fine\n")
    with Warehouse(warehouse_path) as wh:
        with pytest.raises(ImportRefused) as info:
            import_events(wh, f, today=TODAY)
        assert _decisions(wh) == [] and wh.fetch("select count(*) from ops.accounting_imports") == [(0,)]
    assert any(expected in p for p in info.value.problems), info.value.problems
    assert all(p.startswith("bad.csv:") for p in info.value.problems)


def test_the_import_command_reports_the_decisions(
    hub: FaceHub, make_face: Callable[[], FaceConnector], warehouse_path: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    async def drain() -> None:
        face = make_face()
        try:
            await _drained(face, warehouse_path)
        finally:
            await face.aclose()

    asyncio.run(drain())
    number = requested(hub)[0]
    f = _write(tmp_path, "es.csv", f"registro;estado;motivo\n{number};Anulación rechazada;No procede\n")
    monkeypatch.setenv("RCFLOW_WAREHOUSE", str(warehouse_path))
    result = CliRunner().invoke(app, ["accounting", "import", str(f), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["cancellation_decisions"] == 1
    result = CliRunner().invoke(app, ["cancellations", "list", "--json"])
    decided = {r["invoice_id"]: r["decision"] for r in json.loads(result.stdout)}
    assert decided[PREFIX + number]["via"] == "accounting"
    assert (decided[PREFIX + number]["decision"], decided[PREFIX + number]["status"]) == ("reject", "pending")
