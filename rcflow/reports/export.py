"""CSV outputs of a report run, written straight from the built marts (money and days: 2 decimals).

How files are written (CSV dialects, CSV-injection neutralisation, XLSX) is ``rcflow.tabular``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rcflow.tabular import CsvDialect, Sheet, copy_csv, csv_dialect, write_xlsx


def _d2(column: str) -> str:
    return f"cast({column} as decimal(18, 2)) as {column}"


@dataclass(frozen=True)
class CsvOutput:
    """One CSV file: the mart it comes from, its columns in order, and its row order."""

    file_name: str
    mart: str
    columns: tuple[str, ...]
    two_decimals: frozenset[str]
    order_by: str

    def query(self) -> str:
        select = ", ".join(_d2(c) if c in self.two_decimals else c for c in self.columns)
        return f"select {select} from main.{self.mart} order by {self.order_by}"


OUTPUTS: tuple[CsvOutput, ...] = (
    CsvOutput(
        "pmp.csv",
        "pmp",
        ("entity_nif", "administration_id", "administration_name", "period", "as_of_on",
         "is_provisional", "paid_count", "paid_amount", "paid_ratio", "pending_count",
         "pending_amount", "pending_ratio", "pmp", "is_within_30_days", "findings_count",
         "findings_amount", "scope_excluded_count", "scope_excluded_amount", "pmp_method",
         "method_label"),
        frozenset({"paid_amount", "paid_ratio", "pending_amount", "pending_ratio", "pmp",
                   "findings_amount", "scope_excluded_amount"}),
        "entity_nif = 'ALL', administration_id, entity_nif",
    ),
    CsvOutput(
        "morosity.csv",
        "morosity",
        ("entity_nif", "administration_id", "period", "as_of_on", "is_provisional", "entity_name",
         "paid_in_time_count", "paid_in_time_amount",
         "paid_late_count", "paid_late_amount", "interest_paid_count", "interest_paid_amount",
         "pending_in_time_count", "pending_in_time_amount", "pending_late_count",
         "pending_late_amount", "pmp_days", "pmpp_days", "pmpe_days", "pmppe_days",
         "quarantined_count", "findings_count", "findings_amount", "scope_excluded_count",
         "scope_excluded_amount", "method_label", "interest_paid_basis"),
        frozenset({"paid_in_time_amount", "paid_late_amount", "interest_paid_amount",
                   "pending_in_time_amount", "pending_late_amount", "pmp_days", "pmpp_days",
                   "pmpe_days", "pmppe_days", "findings_amount", "scope_excluded_amount"}),
        "entity_nif = 'ALL', administration_id, entity_nif",
    ),
    CsvOutput(
        "pending_recognition.csv",
        "pending_recognition",
        ("period", "invoice_id", "rcf_number", "entity_nif", "entity_name", "supplier_nif",
         "supplier_name", "invoice_number", "issue_date", "amount", "annotated_on",
         "three_months_on", "days_since_annotation", "status_at_end", "status_on",
         "accounting_office", "managing_body", "processing_unit", "report_due_on", "as_of_on",
         "is_provisional", "is_quarantined", "quarantine_reasons", "scope_exclusion"),
        frozenset({"amount"}),
        "entity_nif, annotated_on, invoice_id",
    ),
    CsvOutput(
        "obligations.csv",
        "obligations",
        ("period", "invoice_id", "entity_nif", "rcf_number", "invoice_number", "state",
         "obligation", "is_mandatory", "is_blocked_by_final_state", "hub_status_at_end",
         "since_on", "days_outstanding", "accounting_event_on", "amount", "detail"),
        frozenset({"amount"}),
        "entity_nif, obligation, days_outstanding desc, invoice_id, state",
    ),
    CsvOutput(
        "late_interest.csv",
        "late_interest",
        ("period", "invoice_id", "entity_nif", "supplier_nif", "supplier_name", "invoice_number",
         "rcf_number", "principal", "start_on", "registered_on", "due_on", "due_basis",
         "accrual_to", "accrual_end_basis", "as_of_on", "is_provisional", "days_late", "interest",
         "unrated_days", "unrated_principal", "recovery_costs", "total_claimable",
         "is_rate_missing", "weakest_rate_status", "rate_detail", "is_quarantined",
         "scope_exclusion"),
        frozenset({"principal", "interest", "unrated_principal", "recovery_costs",
                   "total_claimable"}),
        "entity_nif, days_late desc, invoice_id",
    ),
    CsvOutput(
        "state_lags.csv",
        "state_lags",
        ("period", "entity_nif", "transition", "transition_count", "mean_days", "median_days",
         "p95_days", "max_days"),
        frozenset({"mean_days", "median_days", "p95_days"}),
        "entity_nif = 'ALL', entity_nif, transition",
    ),
    CsvOutput(
        "pmp_trend.csv",
        "pmp_trend",
        ("entity_nif", "administration_id", "period", "as_of_on", "is_provisional", "pmp_method",
         "is_method_break", "paid_count", "paid_amount", "paid_ratio", "pending_count",
         "pending_amount", "pending_ratio", "pmp"),
        frozenset({"paid_amount", "paid_ratio", "pending_amount", "pending_ratio", "pmp"}),
        "entity_nif = 'ALL', administration_id, entity_nif, period_start",
    ),
    CsvOutput(
        "quarantine.csv",
        "quarantine_summary",
        ("period", "entity_nif", "stage", "reason", "invoice_count", "amount"),
        frozenset({"amount"}),
        "entity_nif, stage, reason",
    ),
    CsvOutput(
        "scope_exclusions.csv",
        "scope_exclusions",
        ("period", "invoice_id", "entity_nif", "supplier_nif", "supplier_name", "invoice_number",
         "amount", "status", "reason", "source", "note", "import_id", "line_no",
         "is_out_of_morosity", "as_of_on"),
        frozenset({"amount"}),
        "reason, entity_nif, invoice_id",
    ),
    CsvOutput(
        "interest_rates.csv",
        "interest_rates",
        ("half_year_start", "half_year_end", "legal_rate", "ecb_rate", "source", "status",
         "source_file", "is_used", "invoice_count", "accrual_days", "interest"),
        frozenset({"legal_rate", "ecb_rate", "interest"}),
        "half_year_start",
    ),
)  # fmt: skip


_BATCH = 10_000


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> Iterator[tuple]:
    cursor = con.cursor()
    try:
        result = cursor.execute(query)
        while batch := result.fetchmany(_BATCH):
            yield from batch
    finally:
        cursor.close()


def write_csvs(
    con: duckdb.DuckDBPyConnection, out_dir: Path, dialect: CsvDialect | None = None
) -> dict[str, Path]:
    """Write every CSV output into ``out_dir`` (text cells neutralised against CSV injection, in
    ``dialect``, default ``RCFLOW_CSV_DIALECT`` or plain); returns file name → path."""
    chosen = dialect or csv_dialect()
    written = {}
    for output in OUTPUTS:
        path = out_dir / output.file_name
        copy_csv(con, output.query(), path, chosen)
        written[output.file_name] = path
    return written


def write_workbook(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """Every output as a sheet of one XLSX workbook (typed cells, bold frozen header)."""
    sheets = [
        Sheet(output.file_name.removesuffix(".csv"), output.columns, _rows(con, output.query()))
        for output in OUTPUTS
    ]
    return write_xlsx(path, sheets)
