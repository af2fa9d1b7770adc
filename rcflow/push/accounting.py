"""Importing accounting-system events (CSV, Parquet, JSON) — validated whole, loaded whole.

Columns: ``invoice_id`` (hub id) or ``registry_number``, ``state``, ``date`` (YYYY-MM-DD; the
payment date for PAID), ``rcf_number`` (ANNOTATED), ``reason_code``, ``reason`` (REJECTED).
A file with any problem is refused with every problem listed (file, line, what); nothing of it
is loaded. Importing the same file again is a no-op.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from rcflow import clock
from rcflow.warehouse import Warehouse

ACCOUNTING_STATES = ("ANNOTATED", "RECEIVED", "ACCEPTED", "RECOGNISED", "PAID", "REJECTED")
COLUMNS = ("invoice_id", "state", "date", "rcf_number", "reason_code", "reason")
MAX_PROBLEMS_SHOWN = 50


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

    def as_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def read_events_file(path: Path) -> pl.DataFrame:
    """Read a CSV/Parquet/JSON file as text columns (types are checked by us, with line numbers)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif suffix in {".json", ".ndjson", ".jsonl"}:
            frame = _read_json(path)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - any reader failure is a refused file
        raise ImportRefused(str(path), [f"{path}: cannot be read: {_first_line(exc)}"]) from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    return frame.with_columns(pl.all().cast(pl.String))


def _read_json(path: Path) -> pl.DataFrame:
    text = path.read_text(encoding="utf-8").lstrip()
    if text.startswith("["):
        return pl.read_json(path, infer_schema_length=None)
    return pl.read_ndjson(path, infer_schema_length=None)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def validate_events(
    frame: pl.DataFrame, file: str, *, known: pl.DataFrame, today: date
) -> tuple[pl.DataFrame, list[str]]:
    """Check every row; returns the clean events and the problems (empty when the file is good).

    ``known`` has columns invoice_id, registry_number, registry_date (from the warehouse).
    Line numbers count the header as line 1, like a spreadsheet.
    """
    problems: list[str] = []
    if "invoice_id" not in frame.columns and "registry_number" not in frame.columns:
        return frame, [f"{file}: needs an invoice_id or a registry_number column"]
    missing = [c for c in ("state", "date") if c not in frame.columns]
    if missing:
        return frame, [f"{file}: missing column(s): {', '.join(missing)}"]
    for column in (*COLUMNS, "registry_number"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    frame = frame.with_row_index("line_no", offset=2).with_columns(
        pl.col("line_no").cast(pl.Int32),
        *(pl.col(c).str.strip_chars() for c in (*COLUMNS, "registry_number")),
    )
    frame = frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in (*COLUMNS, "registry_number")
    ).with_columns(pl.col("state").str.to_uppercase())
    # Map registry numbers to hub ids where no id was given.
    by_registry = known.select("registry_number", pl.col("invoice_id").alias("_by_registry"))
    frame = frame.join(by_registry, on="registry_number", how="left").with_columns(
        pl.coalesce("invoice_id", "_by_registry").alias("invoice_id")
    )
    frame = frame.join(
        known.select("invoice_id", "registry_date", pl.lit(True).alias("_known")),
        on="invoice_id",
        how="left",
    ).with_columns(pl.col("date").str.to_date("%Y-%m-%d", strict=False).alias("event_date"))

    checks = [
        (pl.col("invoice_id").is_null(), "no invoice_id (and the registry_number is unknown)"),
        (
            pl.col("invoice_id").is_not_null() & pl.col("_known").is_null(),
            "unknown invoice {invoice_id} (not in the warehouse: run `rcflow sync`/`backfill`)",
        ),
        (~pl.col("state").is_in(ACCOUNTING_STATES), "unknown state {state!r}"),
        (pl.col("date").is_null(), "missing date"),
        (
            pl.col("date").is_not_null() & pl.col("event_date").is_null(),
            "bad date {date!r} (expected YYYY-MM-DD)",
        ),
        (pl.col("event_date") > pl.lit(today), "date {date} is in the future"),
        (
            (pl.col("state") == "ANNOTATED") & pl.col("rcf_number").is_null(),
            "ANNOTATED without rcf_number",
        ),
        ((pl.col("state") == "REJECTED") & pl.col("reason").is_null(), "REJECTED without reason"),
        (
            (pl.col("state") != "REJECTED")
            & (pl.col("reason").is_not_null() | pl.col("reason_code").is_not_null()),
            "reason given for {state} (only REJECTED takes a reason)",
        ),
    ]
    for condition, message in checks:
        for row in frame.filter(condition).iter_rows(named=True):
            problems.append(f"{file}:{row['line_no']}: {message.format(**row)}")

    # Duplicate rows for the same (invoice, state): identical ones are folded, others refused.
    payload = ["event_date", "rcf_number", "reason_code", "reason"]
    dupes = (
        frame.filter(pl.col("invoice_id").is_not_null())
        .group_by("invoice_id", "state")
        .agg(pl.struct(payload).n_unique().alias("variants"), pl.col("line_no").sort().alias("lines"))
        .filter(pl.col("variants") > 1)
    )
    for row in dupes.iter_rows(named=True):
        lines = ", ".join(str(n) for n in row["lines"])
        problems.append(
            f"{file}:{row['lines'][0]}: contradictory rows for invoice {row['invoice_id']} "
            f"{row['state']} (lines {lines})"
        )
    problems.sort(key=_line_key)
    clean = frame.unique(subset=["invoice_id", "state"], keep="first", maintain_order=True)
    return clean, problems


def _line_key(problem: str) -> tuple[int, str]:
    parts = problem.split(":")
    return (int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0, problem)


def known_invoices(wh: Warehouse) -> pl.DataFrame:
    return pl.from_arrow(
        wh.arrow(
            "select invoice_id, registry_number,"
            " cast(timezone('Europe/Madrid', registry_at) as date) as registry_date from raw.invoices"
        )
    )


def import_events(wh: Warehouse, path: Path, *, today: date | None = None) -> ImportResult:
    """Validate and load one file into ``ops.accounting_events`` (all or nothing)."""
    path = Path(path)
    data = path.read_bytes()
    import_id = hashlib.sha256(data).hexdigest()
    file = path.name
    already = wh.con.execute(
        "select row_count from ops.accounting_imports where import_id = ?", [import_id]
    ).fetchall()
    if already:
        return ImportResult(file, import_id, already[0][0], 0, already_imported=True)
    frame = read_events_file(path)
    today = today or clock.today()
    clean, problems = validate_events(frame, file, known=known_invoices(wh), today=today)
    if not problems:
        problems = _contradictions_with_loaded(wh, clean, file)
    if problems:
        raise ImportRefused(file, problems)
    events = clean.select(
        "invoice_id",
        "state",
        "event_date",
        "rcf_number",
        "reason_code",
        "reason",
        pl.lit(import_id).alias("import_id"),
        "line_no",
    ).to_arrow()
    with wh.transaction():
        before = wh.con.execute("select count(*) from ops.accounting_events").fetchall()[0][0]
        wh.upsert("ops.accounting_events", events, ["invoice_id", "state"], keep=list(events.column_names))
        after = wh.con.execute("select count(*) from ops.accounting_events").fetchall()[0][0]
        wh.append(
            "ops.accounting_imports",
            pa.table(
                {
                    "import_id": [import_id],
                    "file_name": [file],
                    "row_count": pa.array([frame.height], pa.int32()),
                    "imported_at": pa.array([datetime.now(UTC)], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
    return ImportResult(file, import_id, frame.height, after - before)


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
