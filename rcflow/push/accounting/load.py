"""Loading a checked file: its events, exclusions and cancellation answers in one transaction, or
nothing at all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from rcflow import clock
from rcflow.push.accounting.columns import BUILT_IN, CANCELLATION_DECISIONS, EXCLUSION_NONE
from rcflow.push.accounting.readers import FileRefused, ReadOptions, read_table
from rcflow.push.accounting.validate import line_key, validate_events
from rcflow.warehouse import Warehouse
from rcflow.warehouse.accounting import imported_rows, store_import
from rcflow.warehouse.cancellations import already_answered, decision_problems


class ImportRefused(Exception):
    """The file was refused whole; ``problems`` lists each one as ``file:line: problem``."""

    def __init__(self, file: str, problems: list[str]):
        self.file, self.problems = file, problems
        super().__init__(f"{file}: refused, {len(problems)} problem(s); first: {problems[0]}")


@dataclass
class ImportResult:
    file: str
    import_id: str
    rows: int
    new_events: int
    already_imported: bool = False
    problems: list[str] = field(default_factory=list)
    exclusions: int = 0  # exclusions recorded (or withdrawn) by this file
    cancellation_decisions: int = 0  # answers to cancellation requests decided by this file
    format: str | None = None  # csv, xlsx, parquet, json
    encoding: str | None = None  # how a text file was decoded, e.g. "windows-1252 (detected)"
    separator: str | None = None

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def known_invoices(wh: Warehouse) -> pl.DataFrame:
    return pl.from_arrow(
        wh.arrow(
            "select invoice_id, registry_number, amount_cents,"
            " cast(timezone('Europe/Madrid', registry_at) as date) as registry_date from raw.invoices"
        )
    )


def import_events(
    wh: Warehouse, path: Path, *, today: date | None = None, options: ReadOptions | None = None
) -> ImportResult:
    """Validate and load one file into ``ops.accounting_events``, ``ops.scope_exclusions`` and
    ``ops.cancellation_decisions`` (via 'accounting'; an answer the hub already has is skipped).

    All or nothing; importing the same bytes again is a no-op. ``today`` defaults to the Madrid
    date (:func:`rcflow.clock.today`).
    """
    path = Path(path)
    options = options or ReadOptions()
    data = path.read_bytes()
    import_id = hashlib.sha256(data).hexdigest()
    file = path.name
    already = imported_rows(wh, import_id)
    if already is not None:
        return ImportResult(file, import_id, already, 0, already_imported=True)
    try:
        table = read_table(path, options, data=data)
    except FileRefused as exc:
        raise ImportRefused(file, exc.problems) from None
    events, exclusions, problems = validate_events(
        table, options.mapping or BUILT_IN, known=known_invoices(wh), today=today or clock.today()
    )
    answers: list[tuple[str, str, str]] = []
    if not problems:
        is_decision = pl.col("state").is_in(list(CANCELLATION_DECISIONS))
        decisions, events = events.filter(is_decision), events.filter(~is_decision)
        problems = _contradictions_with_loaded(wh, events, file)
        answers, more = _decisions(wh, decisions, file)
        problems = sorted(problems + more, key=line_key)
    if problems:
        raise ImportRefused(file, problems)
    now = clock.now()
    rows = events.select(
        "invoice_id", "state", "event_date", "rcf_number", "reason_code", "reason",
        pl.lit(import_id).alias("import_id"), "line_no",
    ).to_arrow()
    kept = exclusions.filter(pl.col("exclusion") != EXCLUSION_NONE).select(
        "invoice_id", pl.col("exclusion").alias("reason"), pl.col("exclusion_note").alias("note"),
        pl.lit(import_id).alias("import_id"), "line_no",
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("recorded_at"),
    ).to_arrow()
    new_events = store_import(
        wh, import_id=import_id, file_name=file, row_count=table.frame.height, events=rows,
        exclusions=kept, excluded_ids=exclusions["invoice_id"].to_list(), answers=answers, now=now,
    )  # fmt: skip
    return ImportResult(
        file, import_id, table.frame.height, new_events, exclusions=exclusions.height,
        cancellation_decisions=len(answers),
        format=table.format, encoding=table.encoding, separator=table.separator,
    )


def _decisions(wh: Warehouse, rows: pl.DataFrame, file: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The answers to record (those the hub already has are repeats, skipped) and, by line, why
    any cannot be (no open request, one being sent)."""
    given = [
        (r["invoice_id"], CANCELLATION_DECISIONS[r["state"]], r["reason"], r["line_no"])
        for r in rows.iter_rows(named=True)
    ]
    with wh.reading() as con:
        repeats = already_answered(con, [g[:3] for g in given])
        fresh = [g for g, repeat in zip(given, repeats, strict=True) if not repeat]
        why = decision_problems(con, [g[:3] for g in fresh])
    problems = [f"{file}:{g[3]}: {problem}" for g, problem in zip(fresh, why, strict=True) if problem]
    return [g[:3] for g in fresh], problems


def _contradictions_with_loaded(wh: Warehouse, clean: pl.DataFrame, file: str) -> list[str]:
    """Rows that disagree with events already imported from another file."""
    columns = ("invoice_id", "state", "event_date", "rcf_number", "reason", "line_no")
    with wh.registered("_rcflow_new", clean.select(columns).to_arrow()):
        rows = wh.fetch(
            "select n.line_no, n.invoice_id, n.state, e.event_date, i.file_name"
            " from _rcflow_new n join ops.accounting_events e using (invoice_id, state)"
            " join ops.accounting_imports i on i.import_id = e.import_id"
            " where n.event_date is distinct from e.event_date"
            " or n.rcf_number is distinct from e.rcf_number"
            " or n.reason is distinct from e.reason order by n.line_no"
        )
    return [
        f"{file}:{line}: invoice {inv} {state} contradicts the event imported from {other} (date {prev})"
        for line, inv, state, prev, other in rows
    ]
