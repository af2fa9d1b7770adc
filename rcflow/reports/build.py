"""``build_reports``: one dbt build over the warehouse snapshot, then the CSV and HTML outputs."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from rcflow import clock
from rcflow.reports import html, pages
from rcflow.reports.administrations import Administration, load_administrations
from rcflow.reports.dbt_runner import ReportBuildError, dbt_build
from rcflow.reports.documents import DEFAULT_SIGNERS, DocumentFacts, SignatureBox, write_documents
from rcflow.reports.export import write_csvs, write_workbook
from rcflow.reports.i18n import check_language, translations
from rcflow.reports.periods import NEW_METHOD_FROM, Period, PeriodError, parse_period
from rcflow.reports.publish import publish, staged
from rcflow.reports.rates import DeclaredRate, load_rates_file
from rcflow.reports.readings import DATE_READING, METHOD_LABELS, UNCERTAINTIES, Readings
from rcflow.tabular import CsvDialect
from rcflow.warehouse import fresh_snapshot


@dataclass(frozen=True)
class ReportResult:
    """What a report run produced: headline figures, output paths and timings."""

    period: Period
    method: str
    method_label: str
    headline: dict[str, Any]
    paths: dict[str, Path]
    readings: Readings
    as_of: date
    today: date
    seconds: dict[str, float] = field(default_factory=dict)
    dbt_node_seconds: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def pmp_global(self) -> Decimal | None:
        """The global PMP as published: 2 decimals, rounded half away from zero."""
        return self.headline.get("pmp_global")

    @property
    def quarantined_count(self) -> int:
        return int(self.headline.get("quarantined_count") or 0)

    @property
    def is_provisional(self) -> bool:
        """The period had not ended on the day of the run (its last day included): measured
        as of that day (§1.5), its figures may still change."""
        return self.today <= self.period.end

    @property
    def status_line(self) -> str:
        """``provisional, as of 06/12/2026`` or ``closed, as of 30/11/2026`` (its last day)."""
        kind = "provisional" if self.is_provisional else "closed"
        return f"{kind}, as of {self.as_of:%d/%m/%Y}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: numbers rounded to 2 decimals, paths as strings."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal | float):
                return round(float(value), 2)
            return value

        return {
            "period": self.period.label,
            "period_start": self.period.start.isoformat(),
            "period_end": self.period.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "is_provisional": self.is_provisional,
            "status": self.status_line,
            "method": self.method,
            "method_label": self.method_label,
            "headline": {k: plain(v) for k, v in self.headline.items()},
            "readings": asdict(self.readings),
            "paths": {k: str(v) for k, v in self.paths.items()},
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _ensure_snapshot(warehouse: Path) -> Path:
    return fresh_snapshot(warehouse)  # published if writers ended since (or explains what's missing)


def period_vars(period: Period, today: date) -> dict[str, Any]:
    """The dbt vars of a build for ``period`` run on ``today`` (its readings apart)."""
    return {
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "period_label": period.label,
        "period_kind": period.kind,
        "today": today.isoformat(),
        "pmp_method_from": NEW_METHOD_FROM.isoformat(),  # the method switch's one definition
    }


def _method_for(period: Period, readings: Readings) -> str:
    return period.pmp_method if readings.pmp_method == "auto" else readings.pmp_method


def _as_of(period: Period, today: date) -> date:
    """The day ``period`` is measured at: its end once over, today while running (§1.5)."""
    if period.start > today:
        raise PeriodError(
            f"period {period.label} has not started: today is {today:%d/%m/%Y} (Europe/Madrid)"
        )
    return min(period.end, today)


def _reference_vars(
    rates: list[DeclaredRate], administrations: list[Administration]
) -> dict[str, Any]:
    return {
        "extra_interest_rates": [r.to_var() for r in rates],
        "administrations": [a.to_var() for a in administrations],
    }


def _administrations_note(administrations: list[Administration], source: Path | None) -> str:
    return html.administrations_note(len(administrations), source)


def build_reports(
    warehouse: Path,
    period: str | Period,
    out_dir: Path,
    *,
    readings: Readings | None = None,
    reports_db: Path | None = None,
    checks: bool = True,
    documents_lang: str | None = None,
    documents: Sequence[str] | None = None,
    signers: Sequence[SignatureBox] = DEFAULT_SIGNERS,
    xlsx: bool = False,
    csv_dialect: CsvDialect | None = None,
    rates_file: Path | None = None,
    administrations_file: Path | None = None,
    lang: str | None = None,
) -> ReportResult:
    """Build every report for ``period`` from ``warehouse``'s read-only snapshot into ``out_dir``.

    Writes pmp.csv, morosity.csv, pending_recognition.csv, obligations.csv, late_interest.csv
    (plus state_lags.csv, pmp_trend.csv, quarantine.csv), report.html, dashboard.html and
    report.json (the reading used). The marts are also kept in the DuckDB file ``reports_db``
    when one is given (default: built in memory, gone when the outputs are written).
    ``checks=False`` skips dbt's data tests (its unit tests, on fixed inputs, run in the test
    suite only).
    ``xlsx`` also writes report.xlsx (every table as a typed sheet; slow on very large tables).
    ``csv_dialect``: the CSVs' (default ``RCFLOW_CSV_DIALECT``, else plain).
    ``documents_lang`` also writes the legal documents as PDFs in that language (``documents/``),
    with a signature box for each of ``signers`` (``documents``: only those; default all that apply).
    A period still running is measured as of ``clock.today()`` (Europe/Madrid) and marked
    provisional. ``rates_file`` adds legal interest rates (:mod:`rcflow.reports.rates`);
    ``administrations_file`` declares administrations (:mod:`rcflow.reports.administrations`).
    ``lang`` (ca, es, en; default ``documents_lang``) is the language of the pages and the CSV
    headers; without either, English pages and the columns' own names as headers (report.json
    is English whatever the language).

    Raises:
        PeriodError: ``period`` is not ``YYYY-MM`` / ``YYYY-Qn``, or has not started.
        RatesFileError, AdministrationsFileError: a reference file is invalid (file and line).
        FileNotFoundError: there is no warehouse.
        ReportBuildError: dbt failed (the message names the failing models or tests).
    """
    started = time.perf_counter()
    lang = check_language(lang) if lang else (check_language(documents_lang) if documents_lang else None)
    period = parse_period(period) if isinstance(period, str) else period
    readings = readings or Readings()
    today = clock.today()
    as_of = _as_of(period, today)
    rates = load_rates_file(Path(rates_file)) if rates_file else []
    administrations = load_administrations(Path(administrations_file)) if administrations_file else []
    warehouse = Path(warehouse)
    out_dir = Path(out_dir)
    snapshot = _ensure_snapshot(warehouse)
    seconds: dict[str, float] = {}
    with staged(out_dir) as stage:  # every file published together, or none
        with tempfile.TemporaryDirectory(prefix="rcflow-report-") as tmp:
            work = Path(tmp)
            db = Path(reports_db) if reports_db else None
            if db is not None:
                db.parent.mkdir(parents=True, exist_ok=True)
                for stale in (db, db.with_name(db.name + ".wal")):
                    stale.unlink(missing_ok=True)  # a report database is always rebuilt whole
            with dbt_build(
                snapshot=snapshot,
                reports_db=db,
                variables={**period_vars(period, today), **readings.to_vars(),
                           **_reference_vars(rates, administrations)},
                work_dir=work,
                checks=checks,
            ) as built:  # fmt: skip
                dbt_run = built.run
                seconds["dbt"] = dbt_run.seconds
                output_started = time.perf_counter()
                generated_at = clock.local_now()
                method = _method_for(period, readings)
                run = html.RunFacts(
                    generated_at=generated_at,
                    as_of=as_of,
                    today=today,
                    administrations_note=_administrations_note(administrations, administrations_file),
                    lang=lang or "en",
                    administrations_declared=len(administrations),
                    administrations_source=str(administrations_file) if administrations_file else None,
                    snapshot=snapshot,
                )
                con = built.con
                # The CSVs are DuckDB's COPYs, which run without the GIL: written on a cursor of
                # their own while Python renders the pages on this one.
                with (
                    con.cursor() as csv_con,
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix="rcflow-csv") as csv_writer,
                ):
                    csvs = csv_writer.submit(write_csvs, csv_con, stage, dialect=csv_dialect, lang=lang)
                    shared = pages.figures(con)
                    report_page = html.render_report(con, period, readings, run, shared)
                    dashboard_page = html.render_dashboard(con, period, readings, run, shared)
                    paths = csvs.result()
                headline, left_out, legal = shared.headline, shared.left_out, shared.legal
                if xlsx:
                    paths["report.xlsx"] = write_workbook(con, stage / "report.xlsx", lang=lang)
                paths["report.html"] = html.write_page(stage / "report.html", report_page)
                paths["dashboard.html"] = html.write_page(stage / "dashboard.html", dashboard_page)
                if documents_lang:
                    facts = DocumentFacts(
                        period=period, administration="", generated_at=generated_at,
                        method_label=METHOD_LABELS[method],
                        readings=readings.lines(translations(documents_lang).gettext),
                        as_of=as_of, today=today,
                    )  # fmt: skip
                    paths.update(write_documents(con, stage, facts, documents_lang, documents, signers))
                seconds["outputs"] = time.perf_counter() - output_started
        final = {name: out_dir / path.relative_to(stage) for name, path in paths.items()}
        result = ReportResult(
            period=period,
            method=method,
            method_label=METHOD_LABELS[method],
            headline=headline,
            paths={**final, "report.json": out_dir / "report.json"},
            readings=readings,
            as_of=as_of,
            today=today,
            seconds=seconds,
            dbt_node_seconds=dbt_run.node_seconds,
        )
        seconds["total"] = time.perf_counter() - started
        meta = {**result.to_dict(), "dates": list(DATE_READING),
                "readings_described": readings.describe(),
                "uncertainties": list(UNCERTAINTIES), **left_out, **legal,
                "administrations_note": run.administrations_note,
                "administrations_declared": [a.to_var() for a in administrations],
                "rates_file": str(rates_file) if rates_file else None,
                "generated_at": generated_at.isoformat(),
                "generated_local": clock.format_local(generated_at),
                "dbt_warnings": dbt_run.warnings}  # fmt: skip
        meta_path = stage / "report.json"
        meta_path.write_text(
            json.dumps(meta, indent=2, ensure_ascii=False, default=_json_value), encoding="utf-8"
        )
        publish(stage, out_dir, {**paths, "report.json": meta_path})
        return result


__all__ = ["ReportBuildError", "ReportResult", "build_reports", "period_vars"]
