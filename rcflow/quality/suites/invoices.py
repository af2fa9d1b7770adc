"""``invoices_suite``: one row per hub invoice (``raw.invoices`` with its Facturae and cross-checks).

Tax ids are validated once per distinct value into the check database's ``tax_ids`` table
(python-stdnum through :mod:`rcflow.taxid`) and joined here, so the check itself is SQL.
"""

from __future__ import annotations

import great_expectations.expectations as gxe

from rcflow.quality.suites import BLOCK, FLAG, QUARANTINE, Rule, Suite, rule

VERSION = "1"
TABLE = "check_invoices"

SPANISH_KINDS = ["NIF", "CIF", "NIE"]
# DIR3 unit codes: a letter (the administration level) and eight letters or digits.
DIR3_PATTERN = "[A-Z][A-Z0-9]{8}"


def _malformed(column: str, label: str) -> str:
    return f"case when not regexp_full_match(i.{column}, '{DIR3_PATTERN}') then '{label} ' || i.{column} end"


FRAME_SQL = f"""
with mismatches as (
    select
        invoice_id,
        string_agg(
            field || ' hub=' || coalesce(hub_value, '(none)') || ' xml=' || coalesce(xml_value, '(none)'),
            '; ' order by field
        ) as fields
    from wh.raw.facturae_mismatches
    group by invoice_id
)
select
    i.invoice_id,
    i.supplier_nif,
    i.entity_nif,
    case
        when i.supplier_nif is null then 'missing'
        when st.is_valid then st.kind
        else 'invalid'
    end as supplier_tax_id_kind,
    case
        when i.entity_nif is null then 'missing'
        when et.is_valid then et.kind
        else 'invalid'
    end as entity_tax_id_kind,
    nullif(concat_ws(', ',
        {_malformed("accounting_office", "accounting office")},
        {_malformed("managing_body", "managing body")},
        {_malformed("processing_unit", "processing unit")}
    ), '') as malformed_dir3_codes,
    i.amount_cents,
    f.invoice_class,
    coalesce(i.amount_cents < 0 or f.invoice_class = 'OR', false) as is_credit_note,
    i.issue_date,
    i.registry_at,
    cast(timezone('Europe/Madrid', i.registry_at) as date) as registry_date,
    m.fields as xml_mismatches,
    nullif(trim(f.currency), '') as currency,
    coalesce(f.parse_status, 'missing') as facturae_status,
    f.parse_error
from wh.raw.invoices i
left join wh.raw.facturae_documents f on f.invoice_id = i.invoice_id
left join tax_ids st on st.tax_id = i.supplier_nif
left join tax_ids et on et.tax_id = i.entity_nif
left join mismatches m on m.invoice_id = i.invoice_id
"""


def build() -> Suite:
    rules: tuple[Rule, ...] = (
        rule(
            "invoice_id_not_null",
            gxe.ExpectColumnValuesToNotBeNull(column="invoice_id", severity=BLOCK),
            "'invoice without an id'",
        ),
        rule(
            "invoice_id_unique",
            gxe.ExpectColumnValuesToBeUnique(column="invoice_id", severity=BLOCK),
            "'invoice id ' || invoice_id || ' appears more than once'",
        ),
        rule(
            "supplier_tax_id_valid",
            gxe.ExpectColumnValuesToBeInSet(
                column="supplier_tax_id_kind",
                value_set=[*SPANISH_KINDS, "EU_VAT"],
                severity=QUARANTINE,
            ),
            "'supplier tax id ' || coalesce(supplier_nif, '(none)') || ' is ' || supplier_tax_id_kind",
        ),
        rule(
            "entity_tax_id_valid",
            gxe.ExpectColumnValuesToBeInSet(
                column="entity_tax_id_kind", value_set=SPANISH_KINDS, severity=QUARANTINE
            ),
            "'entity tax id ' || coalesce(entity_nif, '(none)') || ' is ' || entity_tax_id_kind"
            " || ' (a Spanish NIF, CIF or NIE is required)'",
        ),
        rule(
            "dir3_well_formed",
            gxe.ExpectColumnValuesToBeNull(column="malformed_dir3_codes", severity=QUARANTINE),
            "'malformed DIR3: ' || malformed_dir3_codes",
        ),
        rule(
            "amount_present",
            gxe.ExpectColumnValuesToNotBeNull(column="amount_cents", severity=QUARANTINE),
            "'the hub gave no amount'",
        ),
        rule(
            "credit_note",
            gxe.ExpectColumnValuesToBeInSet(column="is_credit_note", value_set=[False], severity=FLAG),
            "'credit note: amount ' || coalesce(amount_cents::varchar, '(none)')"
            " || ' cents, class ' || coalesce(invoice_class, '(none)')",
        ),
        rule(
            "issued_before_registry",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="registry_date",
                column_B="issue_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                severity=QUARANTINE,
            ),
            "'issued ' || issue_date || ' after its registry date ' || registry_date",
        ),
        rule(
            "registry_not_in_future",
            gxe.ExpectColumnValuesToBeBetween(
                column="registry_at", max_value={"$PARAMETER": "now"}, severity=QUARANTINE
            ),
            "'registry date ' || registry_at || ' is in the future'",
        ),
        rule(
            "xml_matches_hub",
            gxe.ExpectColumnValuesToBeNull(column="xml_mismatches", severity=QUARANTINE),
            "'Facturae differs from the hub: ' || xml_mismatches",
        ),
        rule(
            "currency_present",
            gxe.ExpectColumnValuesToNotBeNull(column="currency", severity=QUARANTINE),
            "'no currency in the Facturae'",
        ),
        rule(
            "facturae_parsed",
            gxe.ExpectColumnValuesToBeInSet(column="facturae_status", value_set=["ok"], severity=QUARANTINE),
            "'Facturae ' || facturae_status || coalesce(': ' || parse_error, '')",
        ),
    )
    return Suite("invoices_suite", VERSION, TABLE, FRAME_SQL, rules)
