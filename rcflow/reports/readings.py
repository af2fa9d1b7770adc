"""The legal reading a report uses: its settings, method labels and known uncertainties.

Every figure depends on open questions (see ``shared/domain/compliance-rules.md`` §4); the
settings here make each choice explicit, travel to dbt as vars, and are printed on every output.
This module is the one definition of the settings' values and the method labels: the dbt macros
``reading_choices()`` and ``method_labels()`` in ``reports/macros/readings.sql`` are generated from
it (:func:`write_dbt_macros` rewrites them; a test fails when they differ). Texts are
English msgids (``N_``), translated where they are shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from rcflow.reports.i18n import N_

PmpMethod = Literal["auto", "rd1040_2017", "rd635_2014_original"]
PendingWithoutAcceptance = Literal["include_from_registry", "exclude_until_accepted"]
CreditNotes = Literal["exclude_and_flag", "include"]
PartialPayments = Literal["full_amount_until_paid"]
QuarantinedInvoices = Literal["include_and_flag", "exclude"]
InterestDueDate = Literal["earlier_of_conformity_30_registry_60", "conformity_plus_30",
                          "registry_plus_30"]
PublicBodyRule = Literal["nif_prefix_pqs", "declared_only"]

METHOD_LABELS: dict[str, str] = {
    "rd1040_2017": N_("RD 635/2014 in the wording of RD 1040/2017 (from 04/2018)"),
    "rd635_2014_original": N_(
        "RD 635/2014 original wording (until 03/2018): count starts 30 days after registry"
    ),
}

SETTING_MEANINGS: dict[str, dict[str, str]] = {
    "pmp_method": {
        "auto": N_("RD 1040/2017 from 04/2018, original RD 635/2014 before (by period)"),
        "rd1040_2017": N_("forced: RD 1040/2017 start dates for every period"),
        "rd635_2014_original": N_("forced: original RD 635/2014 (+30 days) for every period"),
    },
    "pending_without_acceptance": {
        "include_from_registry": N_(
            "unpaid invoices with no conformity (ACCEPTED) count as pending from the "
            "registry date, flagged 'start inferred' (§4 case 6)"
        ),
        "exclude_until_accepted": N_("unpaid invoices count as pending only once conformed"),
    },
    "credit_notes": {
        "exclude_and_flag": N_(
            "negative-total documents are left out of every figure and counted; "
            "corrective (OR) invoices with a positive total stay in"
        ),
        "include": N_("negative-total documents count as ordinary operations"),
    },
    "partial_payments": {
        "full_amount_until_paid": N_(
            "an invoice stays pending for its full amount until the hub shows it PAID "
            "(the hub history has no instalments)"
        ),
    },
    "quarantined_invoices": {
        "include_and_flag": N_(
            "invoices with open quality findings count in every legal figure with the hub's "
            "amount and registry date and the accounting dates, flagged and listed "
            "(a finding is not a legal exclusion, §4.1)"
        ),
        "exclude": N_(
            "OPT-IN: invoices with open quality findings are left out of every figure; the "
            "figures are then NOT the legal ones (§4.1)"
        ),
    },
    "interest_due_date": {
        "earlier_of_conformity_30_registry_60": N_(
            "interest runs from the earlier of conformity + 30 and registry + 60 days "
            "(LCSP art. 198.4 as the Supreme Court read it, STS 1880/2024; §5.2)"
        ),
        "conformity_plus_30": N_("interest runs from conformity + 30 days, however late conformity came"),
        "registry_plus_30": N_(
            "interest runs from registry + 30 days (the CJEU reading of Directive 2011/7)"
        ),
    },
    "public_body_rule": {
        "nif_prefix_pqs": N_(
            "a supplier whose NIF starts with P, Q or S is a public body, out of the PMP scope "
            "(RD 635/2014 art. 3), unless the accounting import says otherwise"
        ),
        "declared_only": N_("only the accounting import's scope exclusions apply"),
    },
}

UNCERTAINTIES: tuple[str, ...] = (
    N_(
        "Texts of RD 635/2014 and RD 1040/2017 were not read first-hand; the formulas follow agreeing "
        "secondary sources [S]."
    ),
    N_(
        "The global PMP weights each entity's PMP by its paid + pending amount [U]; it equals the "
        "amount-weighted mean over all operations."
    ),
    N_(
        "Start of the count: the ACCEPTED (conformity) date when it is on the hub and not before "
        "registry; otherwise the registry date, flagged 'start inferred'. Works certifications and "
        "'no acceptance procedure' contracts are not in the hub data."
    ),
    N_(
        "States are dated by the legal fact, not by when the hub recorded them (see 'Dates'): the "
        "accounting system's dates are taken as given; the hub's PATCH carries no date for ANNOTATED, "
        "RECEIVED, ACCEPTED or RECOGNISED, so without an accounting date those fall back to the hub's "
        "state date, which may be the push time."
    ),
    N_(
        "Morosity: legal payment date = start + 30 days (LCSP art. 198.4, as the Ministry's morosity "
        "guide counts it); delivery dates are not in the data, so lateness at the conformity stage "
        "cannot be measured."
    ),
    N_(
        "Morosity 'interest paid' is 0: no interest payments are recorded in the data."
    ),
    N_(
        "Late-payment interest: simple, base 365, from the day after the interest due date (reading "
        "interest_due_date) to the payment date included (the as-of day while unpaid); 40 EUR per "
        "late invoice [U], due whatever the rate. Days in a half-year without a published rate are "
        "counted as 'rate not yet published' (days and principal), never guessed; most rates are [S] "
        "or [U] (see the rate table)."
    ),
    N_(
        "Quality findings (quarantine) are not legal exclusions: quarantined invoices count, flagged "
        "on each figure ('with open findings') and listed; the quarantine is applied as it stands "
        "when the report runs."
    ),
    N_(
        "Scope (RD 635/2014 art. 3): invoices the accounting import declares out (public body, "
        "embargo, set-off, suppliers' payment fund, other) and, by default, suppliers whose NIF "
        "starts with P, Q or S leave the PMP. Public-body suppliers also leave morosity and interest "
        "(Ley 3/2004 covers transactions with businesses); the other exclusions stay there. The art. "
        "10 list keeps every invoice in the RCF. [U]"
    ),
    N_(
        "A period still running is measured as of today (Europe/Madrid): pending invoices aged to "
        "today, overdue status, art. 10 and interest judged at today, later facts unknown; its "
        "figures are provisional (§1.5)."
    ),
    N_(
        "Ley 25/2013 art. 10 list: an invoice PAID without a RECOGNISED state is treated as "
        "recognised (the missing update is listed under obligations)."
    ),
)


DATE_READING: tuple[str, ...] = (
    N_(
        "Each state counts from its effective date, the date of the legal fact: REGISTERED from the "
        "registry entry; PAID from the payment date (dataPagament), else the accounting system's PAID "
        "date, else the hub's state date (the spec's fallback, flagged); any other state from the "
        "accounting system's own date for it, else the hub's state date. All Europe/Madrid days."
    ),
    N_(
        "The hub learns most states through rcflow's push, hourly or as a backlog when an entity "
        "onboards, so its recording time is not the fact's date: a payment made on 20-10 and pushed "
        "on 01-11 is paid in October."
    ),
    N_(
        "A state the accounting system recorded but the hub does not show yet counts for the PMP, "
        "morosity, art. 10 and interest figures from its accounting date: the entity's own registry "
        "is the legal source."
    ),
    N_(
        "Only facts dated on or before the period end (today, while the period is running) count, so "
        "later facts never change a past period; a fact dated inside a past period that arrives later "
        "does change it on a re-run (the data changed)."
    ),
    N_(
        "Updates owed to the hub: an accounting state dated on or before the period end that the hub "
        "still does not show when the report runs. What was pushed since, late or not, is no longer "
        "owed; quarantined invoices' updates are left out (the push holds them back)."
    ),
)


class ReadingError(ValueError):
    """A reading setting with a value rcflow does not implement."""


Gettext = Callable[[str], str]
DAYS_MEANING = N_("REGISTERED with no ANNOTATED/REJECTED after %(days)s days is overdue [U]")
RECOVERY_MEANING = N_("%(euros)s EUR fixed recovery costs per late invoice (Ley 3/2004 art. 8)")


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Readings:
    """Reading settings for a report run; defaults follow compliance-rules.md §4."""

    pmp_method: PmpMethod = "auto"
    pending_without_acceptance: PendingWithoutAcceptance = "include_from_registry"
    credit_notes: CreditNotes = "exclude_and_flag"
    partial_payments: PartialPayments = "full_amount_until_paid"
    annotation_overdue_days: int = 30
    recovery_costs_eur: int = 40
    quarantined_invoices: QuarantinedInvoices = "include_and_flag"
    interest_due_date: InterestDueDate = "earlier_of_conformity_30_registry_60"
    public_body_rule: PublicBodyRule = "nif_prefix_pqs"

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ReadingError(f"reading {name}={value!r} is not one of: {', '.join(allowed)}")
        if not 1 <= self.annotation_overdue_days <= 365:
            raise ReadingError("reading annotation_overdue_days must be between 1 and 365")
        if not 0 <= self.recovery_costs_eur <= 10_000:
            raise ReadingError("reading recovery_costs_eur must be between 0 and 10000")

    def to_vars(self) -> dict[str, Any]:
        """The dbt vars for these settings."""
        return asdict(self)

    def describe(self, gettext: Gettext = _identity) -> list[dict[str, str]]:
        """Each setting with its value and what it means (in ``gettext``'s language; default
        English), for the report's reading section."""
        rows = []
        for name, value in asdict(self).items():
            if name == "annotation_overdue_days":
                meaning = gettext(DAYS_MEANING) % {"days": value}
            elif name == "recovery_costs_eur":
                meaning = gettext(RECOVERY_MEANING) % {"euros": value}
            else:
                meaning = SETTING_MEANINGS.get(name, {}).get(str(value), "")
                meaning = gettext(meaning) if meaning else ""
            rows.append({"name": name, "value": str(value), "meaning": meaning})
        return rows

    def lines(self, gettext: Gettext = _identity) -> list[str]:
        """``name = value: meaning`` per setting, as the legal documents list them."""
        return [f"{r['name']} = {r['value']}: {r['meaning']}" for r in self.describe(gettext)]


CHOICES: dict[str, tuple[str, ...]] = {
    "pmp_method": get_args(PmpMethod),
    "pending_without_acceptance": get_args(PendingWithoutAcceptance),
    "credit_notes": get_args(CreditNotes),
    "partial_payments": get_args(PartialPayments),
    "quarantined_invoices": get_args(QuarantinedInvoices),
    "interest_due_date": get_args(InterestDueDate),
    "public_body_rule": get_args(PublicBodyRule),
}

# --- the dbt side, generated ------------------------------------------------------------------

MACROS_FILE = Path(__file__).resolve().parents[2] / "reports" / "macros" / "readings.sql"
_BEGIN = "{#- BEGIN generated from rcflow/reports/readings.py (write_dbt_macros) -#}"
_END = "{#- END generated -#}"
_GENERATED = re.compile(re.escape(_BEGIN) + r".*?" + re.escape(_END), re.S)


def dbt_macros() -> str:
    """The dbt macros ``reading_choices()`` and ``method_labels()``, from :data:`CHOICES` and
    :data:`METHOD_LABELS` (JSON literals are valid Jinja literals)."""
    if any("'" in label for label in METHOD_LABELS.values()):
        raise ValueError("a method label cannot hold a quote: it becomes a SQL literal")
    choices = json.dumps({k: list(v) for k, v in CHOICES.items()}, ensure_ascii=False, indent=4)
    labels = json.dumps(METHOD_LABELS, ensure_ascii=False, indent=4)
    macros = [f"{{% macro {name}() -%}}\n{{{{ return({value}) }}}}\n{{%- endmacro %}}"
              for name, value in (("reading_choices", choices), ("method_labels", labels))]  # fmt: skip
    return f"{_BEGIN}\n" + "\n\n".join(macros) + f"\n{_END}"


def generated_section(text: str) -> str | None:
    """The generated part of ``readings.sql``'s text, or None."""
    found = _GENERATED.search(text)
    return found.group(0) if found else None


def write_dbt_macros(path: Path = MACROS_FILE) -> bool:
    """Rewrite the generated part of ``path``; True if it changed."""
    text = path.read_text(encoding="utf-8")
    if generated_section(text) is None:
        raise ValueError(f"{path}: no generated section ({_BEGIN!r} … {_END!r})")
    updated = _GENERATED.sub(lambda _: dbt_macros(), text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text

