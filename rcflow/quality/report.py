"""What a check run found, and the error that gates push and reports on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation of one suite, as recorded in ``ops.quality_results``."""

    suite: str  # the suite's name
    suite_version: str
    expectation: str  # the rule name, also the quarantine reason
    column: str | None
    severity: str  # critical (blocks) | warning (quarantines) | info (flags)
    success: bool  # False: rows broke it (flags never fail; see unexpected_count)
    unexpected_count: int | None
    sample_invoice_ids: list[str]
    error: str | None = None  # GX could not evaluate it, or its count disagreed with the SQL

    @property
    def suite_label(self) -> str:
        """``name@version``, as printed."""
        return f"{self.suite}@{self.suite_version}"

    @property
    def blocking(self) -> bool:
        """Blocks when critical, and whenever it could not be evaluated at all."""
        return self.severity == "critical" or self.error is not None

    @property
    def flagged(self) -> bool:
        return self.severity == "info" and bool(self.unexpected_count)

    @property
    def failed_blocking(self) -> bool:
        return self.blocking and not self.success

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "suite_version": self.suite_version,
            "expectation": self.expectation,
            "column": self.column,
            "severity": self.severity,
            "success": self.success,
            "blocking": self.blocking,
            "unexpected_count": self.unexpected_count,
            "sample_invoice_ids": self.sample_invoice_ids,
            "error": self.error,
        }


@dataclass
class CheckReport:
    """The outcome of :func:`rcflow.quality.run_checks`. ``ok`` is the gate."""

    run_id: str
    checked_at: datetime
    outcomes: list[ExpectationOutcome]
    quarantined: dict[str, int]  # reason -> invoices it quarantines after this run
    flagged: dict[str, int]  # reason -> invoices flagged (never quarantined)
    newly_quarantined: int = 0  # (invoice, reason) pairs that were not quarantined before
    resolved: int = 0  # quality quarantines lifted because the invoice now passes
    data_docs: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds
    suites: dict[str, list[ExpectationOutcome]] = field(init=False)

    def __post_init__(self) -> None:
        self.suites = {}
        for outcome in self.outcomes:
            self.suites.setdefault(outcome.suite_label, []).append(outcome)

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.failed_blocking]

    @property
    def ok(self) -> bool:
        return not self.blocking_failures

    def reason(self) -> str:
        """One line: why the gate is closed, or what passed."""
        if self.ok:
            held = sum(self.quarantined.values())
            return (
                f"no blocking failures in {len(self.outcomes)} expectations"
                f" ({held} invoice quarantines for quality, {self.resolved} resolved)"
            )
        parts = []
        for o in self.blocking_failures:
            what = o.error if o.error else f"{o.unexpected_count} unexpected"
            parts.append(f"{o.suite_label} {o.expectation}: {what}")
        return "blocking: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "checked_at": self.checked_at.isoformat(),
            "ok": self.ok,
            "reason": self.reason(),
            "blocking_failures": [o.expectation for o in self.blocking_failures],
            "quarantined": self.quarantined,
            "flagged": self.flagged,
            "newly_quarantined": self.newly_quarantined,
            "resolved": self.resolved,
            "data_docs": str(self.data_docs) if self.data_docs else None,
            "timings": {step: round(seconds, 3) for step, seconds in self.timings.items()},
            "suites": {s: [o.as_dict() for o in items] for s, items in self.suites.items()},
        }


class DataQualityError(Exception):
    """A blocking expectation failed; ``report`` carries everything the run found."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(report.reason())
        self.report = report


def raise_if_blocking(report: CheckReport) -> CheckReport:
    """Raise :class:`DataQualityError` when ``report`` has a blocking failure; else return it.

    Example::

        report = raise_if_blocking(run_checks(settings.warehouse))
    """
    if not report.ok:
        raise DataQualityError(report)
    return report
