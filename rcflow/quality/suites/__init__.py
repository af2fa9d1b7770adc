"""The expectation suites, kept in code and versioned.

Each :class:`Suite` names the batch it validates (a table the check database builds from the
warehouse snapshot with ``frame_sql``) and its :class:`Rule` s. A rule is one GX expectation
plus a stable name (the quarantine reason) and an SQL ``detail`` describing an offending row.
The GX severity says what a failure does:

* ``critical`` — table-level breakage: blocks push and reports (affected invoices quarantined);
* ``warning`` — row-level: quarantines every affected invoice, does not block;
* ``info`` — a flag: counted and sampled, nothing quarantined.

Bump a suite's ``version`` whenever its frame or rules change; it is stored with every result.
"""

from __future__ import annotations

from dataclasses import dataclass

from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

# GX severities, as the suites spell them.
BLOCK = FailureSeverity.CRITICAL.value
QUARANTINE = FailureSeverity.WARNING.value
FLAG = FailureSeverity.INFO.value


@dataclass(frozen=True)
class Rule:
    name: str
    expectation: Expectation
    detail: str  # SQL expression over the batch's columns

    @property
    def severity(self) -> FailureSeverity:
        return FailureSeverity(self.expectation.severity)

    @property
    def blocking(self) -> bool:
        return self.severity is FailureSeverity.CRITICAL

    @property
    def quarantines(self) -> bool:
        return self.severity is not FailureSeverity.INFO

    @property
    def column(self) -> str | None:
        """The column(s) the expectation looks at, as stored in ``ops.quality_results``."""
        config = self.expectation.configuration.kwargs
        if "column" in config:
            return str(config["column"])
        if "column_A" in config:
            return f"{config['column_A']},{config['column_B']}"
        if "column_list" in config:
            return ",".join(config["column_list"])
        return None


def rule(name: str, expectation: Expectation, detail: str) -> Rule:
    """A rule; its name goes into the expectation's ``meta`` so results map back to it."""
    expectation.meta = {**(expectation.meta or {}), "rule": name}
    return Rule(name, expectation, detail)


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    table: str
    frame_sql: str
    rules: tuple[Rule, ...]

    def rule(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)


def all_suites() -> list[Suite]:
    """Fresh suites (GX expectation objects are bound to one context, so build them per run)."""
    from rcflow.quality.suites import accounting_events, invoice_states, invoices

    return [invoices.build(), invoice_states.build(), accounting_events.build()]
