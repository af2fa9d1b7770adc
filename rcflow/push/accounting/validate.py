"""Checking every row of an accounting file: clean events and exclusions, or every problem found.

A problem is ``file:line: column 'Label' (C): what`` (the column as the file names it). Rows
carry a state event (state + date, with rcf_number for ANNOTATED, reason for REJECTED), a scope
exclusion, or both; a row with an exclusion and no state is an *exclusion-only* row. A state of
CANCELLATION_ACCEPTED / CANCELLATION_REJECTED is an answer to a supplier's cancellation request
(FACe): the reason is required (the comment sent to the hub), the date optional.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from rcflow.push.accounting import text
from rcflow.push.accounting.columns import (
    ACCOUNTING_STATES,
    CANCELLATION_DECISIONS,
    CANONICAL,
    EXCLUSION_NAMES,
    Mapping,
)
from rcflow.push.accounting.readers import EventTable
from rcflow.push.accounting.values import LIMITS, parse_amount, parse_date

PAYLOAD = ["event_date", "rcf_number", "reason_code", "reason"]


def validate_events(
    table: EventTable, mapping: Mapping, *, known: pl.DataFrame, today: date
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Returns (events, exclusions, problems); the file is good only when problems is empty.

    ``known`` has columns invoice_id, registry_number, registry_date, amount_cents (the warehouse).
    """
    file, frame, header = table.file, table.frame, table.header_line
    if "invoice_id" not in frame.columns and "registry_number" not in frame.columns:
        return frame, frame, [f"{file}:{header}: no invoice column: name one invoice_id (the hub id) or "
                              f"registry_number{_header_hint(table)}"]
    if "state" not in frame.columns and "exclusion" not in frame.columns:
        return frame, frame, [f"{file}:{header}: no state column (nor an exclusion column)"
                              f"{_header_hint(table)}"]
    if "state" in frame.columns and "date" not in frame.columns and not _only_decisions(frame, mapping):
        return frame, frame, [f"{file}:{header}: a state column but no date column{_header_hint(table)}"]

    problems = _text_problems(table) + table.problems
    if problems:  # hostile or damaged text: nothing more is read from it, nor echoed back
        return frame, frame, problems
    stripped = {c: pl.col(c).str.strip_chars(" \u00a0") for c in frame.columns if c != "line_no"}
    frame = frame.with_columns(pl.when(e != "").then(e).alias(c) for c, e in stripped.items())
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in CANONICAL if c not in frame.columns)
    frame = _parse(frame, mapping)
    frame = _join_known(frame, known)

    def label(column: str) -> str:  # a header's braces must survive the str.format below
        return table.label(column).replace("{", "{{").replace("}", "}}")

    decision = pl.col("state").is_in(list(CANCELLATION_DECISIONS))
    checks: list[tuple[pl.Expr, str]] = [
        (pl.col("invoice_id").is_null() & pl.col("registry_number").is_null(),
         "no invoice: the row has neither invoice_id nor registry_number"),
        (pl.col("invoice_id").is_null() & pl.col("registry_number").is_not_null(),
         f"column {label('registry_number')}: unknown registry number {{registry_number}}"),
        (pl.col("_clash"),
         f"column {label('registry_number')}: registry number {{registry_number}} is invoice "
         "{_by_registry}, not {invoice_id}"),
        (pl.col("invoice_id").is_not_null() & pl.col("_known").is_null(),
         f"column {label('invoice_id')}: unknown invoice {{invoice_id}} (not in the warehouse: run "
         "`rcflow sync`/`backfill`)"),
        (pl.col("state_raw").is_null() & pl.col("exclusion_raw").is_null(),
         "nothing to import: no state and no exclusion"),
        (pl.col("state_raw").is_not_null() & pl.col("state").is_null(),
         f"column {label('state')}: unknown state {{state_raw!r}} (expected one of "
         f"{', '.join([*(s.value for s in ACCOUNTING_STATES), *CANCELLATION_DECISIONS])}, or a name from"
         " the mapping file)"),
        (pl.col("state_raw").is_not_null() & pl.col("date").is_null() & ~decision.fill_null(False),
         f"column {label('date')}: missing date"),
        (pl.col("state_raw").is_null() & pl.col("date").is_not_null(),
         f"column {label('date')}: a date without a state"),
        (pl.col("date").is_not_null() & pl.col("event_date").is_null(),
         f"column {label('date')}: bad date {{date!r}} ({{date_why}})"),
        (pl.col("event_date") > pl.lit(today),
         f"column {label('date')}: date {{date}} is in the future (today is {today.isoformat()}, Madrid)"),
        ((pl.col("state") == "ANNOTATED") & pl.col("rcf_number").is_null(),
         f"column {label('rcf_number')}: ANNOTATED without rcf_number"),
        ((pl.col("state") == "REJECTED") & pl.col("reason").is_null(),
         f"column {label('reason')}: REJECTED without reason"),
        ((pl.col("state") != "REJECTED") & ~decision
         & (pl.col("reason").is_not_null() | pl.col("reason_code").is_not_null()),
         "reason given for {state} (only REJECTED takes a reason, and an answer to a cancellation request)"),
        (decision & pl.col("reason").is_null(),
         f"column {label('reason')}: {{state}} without reason (the comment sent to the hub)"),
        (decision & pl.col("reason_code").is_not_null(),
         f"column {label('reason_code')}: a reason code given for {{state}} (only REJECTED takes one)"),
        (pl.col("state_raw").is_null() & pl.any_horizontal(pl.col(PAYLOAD[1:]).is_not_null()),
         "rcf_number or reason given without a state"),
        (pl.col("exclusion_raw").is_not_null() & pl.col("exclusion").is_null(),
         f"column {label('exclusion')}: unknown exclusion {{exclusion_raw!r}} (expected one of "
         f"{', '.join(EXCLUSION_NAMES)}, or a name from the mapping file)"),
        (pl.col("exclusion_raw").is_null() & pl.col("exclusion_note").is_not_null(),
         f"column {label('exclusion_note')}: an exclusion note without an exclusion"),
        (pl.col("amount").is_not_null() & pl.col("amount_cents").is_null(),
         f"column {label('amount')}: bad amount {{amount!r}} (expected e.g. 8.054,53 or 8054.53)"),
        (pl.col("amount_cents").is_not_null() & pl.col("_hub_cents").is_not_null()
         & (pl.col("amount_cents") != pl.col("_hub_cents")),
         f"column {label('amount')}: amount {{amount}} is not the hub's amount of invoice {{invoice_id}} "
         "({_hub_amount}): does the row name the right invoice?"),
    ]
    for condition, message in checks:
        for row in frame.filter(condition).iter_rows(named=True):
            if row["_hub_cents"] is not None:
                row["_hub_amount"] = f"{Decimal(row['_hub_cents']) / 100:.2f}"
            problems.append(f"{file}:{row['line_no']}: {message.format(**row)}")

    events = frame.filter(pl.col("state").is_not_null())
    problems += _contradictions(events, ["invoice_id", "state"], PAYLOAD, file, "rows for invoice {} {}")
    problems += _contradictions(
        events.filter(pl.col("state").is_in(list(CANCELLATION_DECISIONS))), ["invoice_id"], ["state"], file,
        "answers to the cancellation request of invoice {}",
    )  # fmt: skip
    exclusions = frame.filter(pl.col("exclusion").is_not_null())
    problems += _contradictions(
        exclusions, ["invoice_id"], ["exclusion", "exclusion_note"], file, "exclusions for invoice {}"
    )
    problems.sort(key=line_key)
    return (
        events.unique(subset=["invoice_id", "state"], keep="first", maintain_order=True),
        exclusions.unique(subset=["invoice_id"], keep="first", maintain_order=True),
        problems,
    )


def _header_hint(table: EventTable) -> str:
    """What the header holds that rcflow did not recognise, and how to name it."""
    if not table.ignored:
        return ""
    shown = ", ".join(table.ignored[:12]) + (", …" if len(table.ignored) > 12 else "")
    return f"; columns not recognised: {shown} (name them in a --mapping file; README, 'Accounting files')"


def _text_problems(table: EventTable) -> list[str]:
    """Control characters and over-long values, by line and column, before anything else."""
    problems = []
    for column in table.frame.columns:
        if column == "line_no":
            continue
        limit, what = LIMITS[column]
        values = table.frame.select("line_no", column).filter(pl.col(column).is_not_null())
        for line, value in values.iter_rows():
            if problem := text.field_problem(value):
                problems.append(f"{table.file}:{line}: column {table.label(column)}: {problem}")
            elif len(value) > limit:
                problems.append(
                    f"{table.file}:{line}: column {table.label(column)}: {len(value)} characters; "
                    f"at most {limit} accepted ({what})"
                )
    return problems


def _parse(frame: pl.DataFrame, mapping: Mapping) -> pl.DataFrame:
    """States and exclusions to rcflow's words, dates and amounts to values (None when unreadable)."""
    states = {v: (str(s) if (s := mapping.state(v)) else None) for v in _distinct(frame, "state")}
    exclusions = {v: mapping.exclusion(v) for v in _distinct(frame, "exclusion")}
    dates = {v: parse_date(v) for v in _distinct(frame, "date")}
    amounts = {v: parse_amount(v) for v in _distinct(frame, "amount")}
    return frame.with_columns(
        pl.col("state").alias("state_raw"),
        pl.col("state").replace_strict(states, default=None, return_dtype=pl.String),
        pl.col("exclusion").alias("exclusion_raw"),
        pl.col("exclusion").replace_strict(exclusions, default=None, return_dtype=pl.String),
        pl.col("date").replace_strict(
            {k: v for k, v in dates.items() if isinstance(v, date)}, default=None, return_dtype=pl.Date
        ).alias("event_date"),
        pl.col("date").replace_strict(
            {k: v for k, v in dates.items() if isinstance(v, str)}, default=None, return_dtype=pl.String
        ).alias("date_why"),
        pl.col("amount").replace_strict(
            {k: int(v * 100) for k, v in amounts.items() if v is not None and v * 100 == int(v * 100)},
            default=None, return_dtype=pl.Int64,
        ).alias("amount_cents"),
    )


def _only_decisions(frame: pl.DataFrame, mapping: Mapping) -> bool:
    """Every state recognised is an answer to a cancellation request (such a file needs no date;
    an unknown state is named by the row checks)."""
    known = [str(s) for v in _distinct(frame, "state") if (s := mapping.state(v.strip()))]
    return bool(known) and all(s in CANCELLATION_DECISIONS for s in known)


def _distinct(frame: pl.DataFrame, column: str) -> list[str]:
    return frame.get_column(column).drop_nulls().unique().to_list()


def _join_known(frame: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Hub ids for rows given by registry number; whether each invoice is in the warehouse."""
    by_registry = known.select("registry_number", pl.col("invoice_id").alias("_by_registry"))
    frame = frame.join(by_registry, on="registry_number", how="left").with_columns(
        (pl.col("invoice_id").is_not_null() & pl.col("_by_registry").is_not_null()
         & (pl.col("invoice_id") != pl.col("_by_registry"))).alias("_clash"),
        pl.coalesce("invoice_id", "_by_registry").alias("invoice_id"),
    )
    return frame.join(
        known.select("invoice_id", pl.lit(True).alias("_known"), pl.col("amount_cents").alias("_hub_cents")),
        on="invoice_id",
        how="left",
    )


def _contradictions(
    rows: pl.DataFrame, key: list[str], payload: list[str], file: str, what: str
) -> list[str]:
    """Rows with the same key must say the same thing: identical ones fold, others are refused."""
    clashes = (
        rows.filter(pl.col("invoice_id").is_not_null())
        .group_by(key)
        .agg(pl.struct(payload).n_unique().alias("variants"), pl.col("line_no").sort().alias("lines"))
        .filter(pl.col("variants") > 1)
    )
    return [
        f"{file}:{row['lines'][0]}: contradictory {what.format(*(row[k] for k in key))} "
        f"(lines {', '.join(str(n) for n in row['lines'])})"
        for row in clashes.iter_rows(named=True)
    ]


def line_key(problem: str) -> tuple[int, str]:
    parts = problem.split(":")
    return (int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0, problem)
