{#- The accounting events owed or not (int_accounting_events_owed_to_hub) beside what the hub
    shows of each invoice as of the period: its status, when it recorded each state, whether
    it is final there. -#}
with

owed as (

    select * from {{ ref('int_accounting_events_owed_to_hub') }}

),

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

compared as (

    select
        ----------  ids
        owed.invoice_id,
        owed.state,
        invoices.entity_nif,

        ----------  text
        invoices.status_at_end as hub_status_at_end,
        owed.verdict,
        owed.hold_kind,

        ----------  dates
        owed.event_on,
        -- When the hub recorded the state, whenever that was (null: the hub does not show it).
        case owed.state
            when 'ANNOTATED' then invoices.hub_annotated_on
            when 'RECEIVED' then invoices.hub_received_on
            when 'ACCEPTED' then invoices.hub_accepted_on
            when 'RECOGNISED' then invoices.hub_recognised_on
            when 'PAID' then invoices.hub_paid_on
            when 'REJECTED' then invoices.hub_rejected_on
        end as hub_recorded_on,

        ----------  numerics
        owed.days_owed,

        ----------  booleans
        invoices.invoice_id is not null as is_invoice_on_hub,
        coalesce(invoices.is_quarantined, false) as is_quarantined,
        coalesce(
            invoices.hub_paid_on is not null or invoices.hub_rejected_on is not null
            or invoices.hub_cancelled_on is not null,
            false
        ) as is_final_on_hub,
        owed.is_mandatory,
        owed.is_owed_to_hub,
        owed.is_due_to_hub,
        owed.is_held_back,
        owed.is_blocked_by_final_state

    from owed
    left join invoices on invoices.invoice_id = owed.invoice_id

)

select * from compared
