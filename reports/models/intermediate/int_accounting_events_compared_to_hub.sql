with

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

events_by_period_end as (

    select * from events
    where event_on <= {{ as_of_date() }}

),

compared as (

    select
        ----------  ids
        events_by_period_end.invoice_id,
        events_by_period_end.state,
        invoices.entity_nif,

        ----------  text
        invoices.status_at_end as hub_status_at_end,

        ----------  dates
        events_by_period_end.event_on,
        -- When the hub recorded the state, whenever that was (null: the hub does not show it).
        case events_by_period_end.state
            when 'ANNOTATED' then invoices.hub_annotated_on
            when 'RECEIVED' then invoices.hub_received_on
            when 'ACCEPTED' then invoices.hub_accepted_on
            when 'RECOGNISED' then invoices.hub_recognised_on
            when 'PAID' then invoices.hub_paid_on
            when 'REJECTED' then invoices.hub_rejected_on
        end as hub_recorded_on,

        ----------  booleans
        invoices.invoice_id is not null as is_invoice_on_hub,
        coalesce(invoices.is_quarantined, false) as is_quarantined,
        coalesce(invoices.hub_paid_on is not null or invoices.hub_rejected_on is not null, false)
            as is_final_on_hub,
        events_by_period_end.state in ('ANNOTATED', 'RECOGNISED', 'PAID', 'REJECTED')
            as is_mandatory

    from events_by_period_end
    left join invoices on invoices.invoice_id = events_by_period_end.invoice_id

),

owed as (

    select
        *,
        -- Owed at the period end: the accounting system dated it by then, and the hub still
        -- does not show it now (what was pushed since, late or not, is no longer owed).
        is_invoice_on_hub and hub_recorded_on is null as is_owed_to_hub,
        -- PAID and REJECTED are final on the hub: a different update can no longer be pushed.
        is_invoice_on_hub and hub_recorded_on is null and is_final_on_hub
            as is_blocked_by_final_state,
        {{ as_of_date() }} - event_on as days_owed

    from compared

)

select * from owed
