"""``invoice_states_suite``: one row per state in the hub's history (``raw.invoice_states``).

The frame adds what a row cannot see on its own: the latest earlier timestamp in ``seq`` order
and the final state (PAID / REJECTED / CANCELLED, ``rcflow.lifecycle``) that came before it, if any.
"""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

# eFACT's technical codes (its 2025 ``/estats`` codes) are its own: the one import of a hub
# package in the quality layer, listed in tests/core/test_layers.py.
from rcflow.connectors.efact.states import STATE_TABLE
from rcflow.lifecycle import FINAL_STATES, LIFECYCLE, State
from rcflow.quality.suites import BLOCK, FLAG, QUARANTINE, Rule, Suite, rule

VERSION = "1"
TABLE = "check_invoice_states"

_FINAL = ", ".join(f"'{state.value}'" for state in sorted(FINAL_STATES))

FRAME_SQL = f"""
select
    s.invoice_id,
    s.seq,
    s.state,
    s.state_code,
    s.state || ':' || coalesce(s.state_code, '') as state_and_code,
    s.state_at,
    last_value(s.state_at ignore nulls) over earlier as previous_state_at,
    nullif(trim(s.rcf_number), '') as rcf_number,
    s.payment_date,
    nullif(trim(s.reject_reason), '') as reject_reason,
    first_value(case when s.state in ({_FINAL}) then s.state end ignore nulls) over earlier
        as after_final_state
from wh.raw.invoice_states s
window earlier as (
    partition by s.invoice_id order by s.seq rows between unbounded preceding and 1 preceding
)
"""


def allowed_state_codes() -> list[str]:
    """Every ``STATE:code`` pair a hub may send: a state's public code (BOE-A-2014-10660, every
    hub) or its eFACT technical code."""
    public = {f"{state.value}:{stage.public_code}" for state, stage in LIFECYCLE.items()}
    technical = {f"{state.value}:{info.technical_code}" for state, info in STATE_TABLE.items()}
    return sorted(public | technical)


def build() -> Suite:
    rules: tuple[Rule, ...] = (
        rule(
            "state_seq_unique",
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["invoice_id", "seq"], severity=BLOCK),
            "'state position ' || seq || ' appears more than once'",
        ),
        rule(
            "state_code_matches",
            gxe.ExpectColumnValuesToBeInSet(
                column="state_and_code", value_set=allowed_state_codes(), severity=QUARANTINE
            ),
            "'seq ' || seq || ': state ' || state || ' with code '"
            " || coalesce(state_code, '(none)') || ' is not a known code of that state'",
        ),
        rule(
            "state_times_ordered",
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="state_at",
                column_B="previous_state_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                severity=QUARANTINE,
            ),
            "'seq ' || seq || ': ' || state || ' at ' || state_at"
            " || ' is earlier than a previous state at ' || previous_state_at",
        ),
        rule(
            "annotated_has_rcf_number",
            gxe.ExpectColumnValuesToNotBeNull(
                column="rcf_number",
                row_condition=Column("state") == State.ANNOTATED.value,
                severity=QUARANTINE,
            ),
            "'seq ' || seq || ': ANNOTATED without an RCF registry number'",
        ),
        rule(
            "paid_has_payment_date",
            gxe.ExpectColumnValuesToNotBeNull(
                column="payment_date",
                row_condition=Column("state") == State.PAID.value,
                severity=FLAG,
            ),
            # The spec: without dataPagament, the PAID state's date counts as the payment date.
            "'seq ' || seq || ': PAID without a payment date; the state date '"
            " || coalesce(cast(timezone('Europe/Madrid', state_at) as date)::varchar, '(none)')"
            " || ' stands in'",
        ),
        rule(
            "rejected_has_reason",
            gxe.ExpectColumnValuesToNotBeNull(
                column="reject_reason",
                row_condition=Column("state") == State.REJECTED.value,
                severity=QUARANTINE,
            ),
            "'seq ' || seq || ': REJECTED without a reason'",
        ),
        rule(
            "nothing_after_final_state",
            gxe.ExpectColumnValuesToBeNull(column="after_final_state", severity=QUARANTINE),
            "'seq ' || seq || ': ' || state || ' after final state ' || after_final_state",
        ),
    )
    return Suite("invoice_states_suite", VERSION, TABLE, FRAME_SQL, rules)
