"""``accounting_events_suite``: one row per imported accounting event (``ops.accounting_events``).

The frame joins each event to its hub invoice (registry date, or nothing when unknown) and to the
dates of the invoice's earlier milestones: ANNOTATED before RECOGNISED before PAID.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from rcflow.lifecycle import State
from rcflow.quality.suites import BLOCK, QUARANTINE, Rule, Suite, rule

VERSION = "1"
TABLE = "check_accounting_events"

FRAME_SQL = """
with milestones as (
    select
        e.*,
        max(case when e.state = 'ANNOTATED' then e.event_date end)
            over (partition by e.invoice_id) as annotated_date,
        max(case when e.state = 'RECOGNISED' then e.event_date end)
            over (partition by e.invoice_id) as recognised_date
    from wh.ops.accounting_events e
),
hub as (
    select invoice_id, min(registry_at) as registry_at
    from wh.raw.invoices
    group by invoice_id
)
select
    m.invoice_id,
    m.state,
    m.event_date,
    m.import_id,
    m.line_no,
    h.invoice_id is not null as invoice_known,
    cast(timezone('Europe/Madrid', h.registry_at) as date) as registry_date,
    case m.state
        when 'RECOGNISED' then m.annotated_date
        when 'PAID' then greatest(m.annotated_date, m.recognised_date)
    end as previous_milestone_date,
    case m.state
        when 'RECOGNISED' then 'ANNOTATED'
        when 'PAID' then
            case when m.recognised_date >= m.annotated_date or m.annotated_date is null
                then 'RECOGNISED' else 'ANNOTATED' end
    end as previous_milestone
from milestones m
left join hub h on h.invoice_id = m.invoice_id
"""


def build() -> Suite:
    rules: tuple[Rule, ...] = (
        rule(
            "event_key_unique",
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["invoice_id", "state"], severity=BLOCK),
            "'accounting has ' || state || ' more than once'",
        ),
        rule(
            "event_not_in_future",
            gxe.ExpectColumnValuesToBeBetween(
                column="event_date", max_value={"$PARAMETER": "today"}, severity=QUARANTINE
            ),
            "state || ' dated ' || event_date || ', in the future'",
        ),
        rule(
            "payment_not_before_registry",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="event_date",
                column_B="registry_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                row_condition=Column("state") == State.PAID.value,
                severity=QUARANTINE,
            ),
            "'paid ' || event_date || ', before the registry date ' || registry_date",
        ),
        rule(
            "milestones_in_order",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="event_date",
                column_B="previous_milestone_date",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                severity=QUARANTINE,
            ),
            "state || ' ' || event_date || ' is before ' || previous_milestone"
            " || ' ' || previous_milestone_date",
        ),
        rule(
            "invoice_known",
            gxe.ExpectColumnValuesToBeInSet(column="invoice_known", value_set=[True], severity=QUARANTINE),
            "'accounting event (' || import_id[:12] || ' line ' || line_no || ')"
            " for an invoice the hub never sent'",
        ),
    )
    return Suite("accounting_events_suite", VERSION, TABLE, FRAME_SQL, rules)
