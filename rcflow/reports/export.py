"""CSV outputs of a report run, written straight from the built marts (money and days: 2 decimals).

Headers are the columns' own names, or their labels in a report language (:data:`HEADERS`, English
msgids translated through the reports' catalogues). How files are written (CSV dialects,
CSV-injection neutralisation, XLSX) is ``rcflow.tabular``'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rcflow.reports.i18n import N_, translations
from rcflow.tabular import CsvDialect, Sheet, copy_csv, csv_dialect, write_xlsx


def _d2(column: str) -> str:
    return f"cast({column} as decimal(18, 2))"


HEADERS: dict[str, str] = {
    "entity_nif": N_("Entity NIF"), "entity_name": N_("Entity"),
    "administration_id": N_("Administration (parent NIF)"), "administration_name": N_("Administration"),
    "period": N_("Period"), "as_of_on": N_("Data as of"), "is_provisional": N_("Provisional"),
    "paid_count": N_("Payments made"), "paid_amount": N_("Total payments made"),
    "paid_ratio": N_("Ratio of paid transactions (days)"),
    "pending_count": N_("Payments pending"), "pending_amount": N_("Total payments pending"),
    "pending_ratio": N_("Ratio of transactions pending payment (days)"),
    "pmp": N_("Average period of payment to suppliers (days)"),
    "is_within_30_days": N_("Within 30 days"),
    "findings_count": N_("Invoices with open findings"), "findings_amount": N_("Amount with open findings"),
    "scope_excluded_count": N_("Invoices out of the PMP scope"),
    "scope_excluded_amount": N_("Amount out of the PMP scope"),
    "pmp_method": N_("Method (code)"), "method_label": N_("Method"),
    "paid_in_time_count": N_("Payments within the legal payment period: number"),
    "paid_in_time_amount": N_("Payments within the legal payment period: total amount"),
    "paid_late_count": N_("Payments outside the legal payment period: number"),
    "paid_late_amount": N_("Payments outside the legal payment period: total amount"),
    "interest_paid_count": N_("Late-payment interest paid: number of payments"),
    "interest_paid_amount": N_("Late-payment interest paid: total amount"),
    "pending_in_time_count": N_("Pending within the legal payment period: number of transactions"),
    "pending_in_time_amount": N_("Pending within the legal payment period: total amount"),
    "pending_late_count": N_("Pending outside the legal payment period: number of transactions"),
    "pending_late_amount": N_("Pending outside the legal payment period: total amount"),
    "pmp_days": N_("Average period of payment (PMP) (days)"),
    "pmpp_days": N_("Average period of pending payment (PMPP) (days)"),
    "pmpe_days": N_("Exceeded average period of payment (PMPE) (days)"),
    "pmppe_days": N_("Exceeded average period of pending payment (PMPPE) (days)"),
    "quarantined_count": N_("With open quality findings"),
    "interest_paid_basis": N_("Basis of the interest paid"),
    "invoice_id": N_("Invoice id"), "rcf_number": N_("RCF number"),
    "supplier_nif": N_("Supplier NIF"), "supplier_name": N_("Supplier"),
    "invoice_number": N_("Invoice number"), "issue_date": N_("Issue date"), "amount": N_("Amount"),
    "annotated_on": N_("Annotated on"), "three_months_on": N_("Three months on"),
    "days_since_annotation": N_("Days since annotation"),
    "status_at_end": N_("State at the end of the period"), "status_on": N_("State since"),
    "accounting_office": N_("Accounting office"), "managing_body": N_("Managing body"),
    "processing_unit": N_("Processing unit"), "report_due_on": N_("Report due on"),
    "is_quarantined": N_("With open findings"), "quarantine_reasons": N_("Findings"),
    "scope_exclusion": N_("Out of the PMP scope"), "state": N_("State"), "obligation": N_("Obligation"),
    "is_mandatory": N_("Mandatory"), "is_blocked_by_final_state": N_("Blocked by a final state"),
    "hub_status_at_end": N_("Hub state at the end of the period"), "since_on": N_("Since"),
    "days_outstanding": N_("Days outstanding"), "accounting_event_on": N_("Accounting date"),
    "detail": N_("Detail"), "principal": N_("Principal"), "start_on": N_("Start of the count"),
    "registered_on": N_("Registered on"), "due_on": N_("Due on"), "due_basis": N_("Due date basis"),
    "accrual_to": N_("Accrued to"), "accrual_end_basis": N_("Accrual end basis"),
    "days_late": N_("Days late"), "interest": N_("Interest"),
    "unrated_days": N_("Days without a published rate"),
    "unrated_principal": N_("Principal without a published rate"), "recovery_costs": N_("Recovery costs"),
    "total_claimable": N_("Total claimable"), "is_rate_missing": N_("Rate not yet published"),
    "weakest_rate_status": N_("Weakest rate source"), "rate_detail": N_("Rates"),
    "transition": N_("Transition"), "transition_count": N_("Count"), "mean_days": N_("Mean (days)"),
    "median_days": N_("Median (days)"), "p95_days": N_("95th percentile (days)"),
    "max_days": N_("Maximum (days)"),
    "is_method_break": N_("Change of method"), "stage": N_("Stage"), "reason": N_("Reason"),
    "invoice_count": N_("Invoices"), "status": N_("Status"), "source": N_("Source"), "note": N_("Note"),
    "import_id": N_("Import"), "line_no": N_("Line"), "is_out_of_morosity": N_("Out of morosity"),
    "half_year_start": N_("From"), "half_year_end": N_("To"), "legal_rate": N_("Legal interest rate (%)"),
    "ecb_rate": N_("ECB rate (%)"), "source_file": N_("Source file"), "is_used": N_("Used"),
    "accrual_days": N_("Days"),
}  # fmt: skip


def headers(columns: tuple[str, ...], lang: str) -> list[str]:
    """``columns``' labels in ``lang``."""
    gettext = translations(lang).gettext
    return [gettext(HEADERS[c]) for c in columns]


@dataclass(frozen=True)
class CsvOutput:
    """One CSV file: the mart it comes from, its columns in order, and its row order."""

    file_name: str
    mart: str
    columns: tuple[str, ...]
    two_decimals: frozenset[str]
    order_by: str

    def query(self, lang: str | None = None) -> str:
        """The rows in order; columns named as the mart names them, or labelled in ``lang``."""
        names = self.columns if lang is None else headers(self.columns, lang)
        select = ", ".join(
            f"{_d2(c) if c in self.two_decimals else c} as {_quoted(name)}"
            for c, name in zip(self.columns, names, strict=True)
        )
        return f"select {select} from main.{self.mart} order by {self.order_by}"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
    con: duckdb.DuckDBPyConnection, out_dir: Path, dialect: CsvDialect | None = None, lang: str | None = None
) -> dict[str, Path]:
    """Write every CSV output into ``out_dir`` (text cells neutralised against CSV injection, in
    ``dialect``, default ``RCFLOW_CSV_DIALECT`` or plain; headers labelled in ``lang``, default the
    columns' names); returns file name → path."""
    chosen = dialect or csv_dialect()
    written = {}
    for output in OUTPUTS:
        path = out_dir / output.file_name
        copy_csv(con, output.query(lang), path, chosen)
        written[output.file_name] = path
    return written


def write_workbook(con: duckdb.DuckDBPyConnection, path: Path, lang: str | None = None) -> Path:
    """Every output as a sheet of one XLSX workbook (typed cells, bold frozen header, labelled in
    ``lang`` as the CSVs are)."""
    sheets = [
        Sheet(output.file_name.removesuffix(".csv"),
              output.columns if lang is None else headers(output.columns, lang),
              _rows(con, output.query()))
        for output in OUTPUTS
    ]  # fmt: skip
    return write_xlsx(path, sheets)
