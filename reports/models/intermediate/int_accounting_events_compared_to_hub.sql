with

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

events_by_period_end as (

    select * from events
    where event_on <= {{ period_end() }}

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
        case events_by_period_end.state
            when 'DELIVERED' then invoices.delivered_on
            when 'ANNOTATED' then invoices.annotated_on
            when 'RECEIVED' then invoices.received_on
            when 'ACCEPTED' then invoices.accepted_on
            when 'RECOGNISED' then invoices.recognised_on
            when 'PAID' then invoices.paid_recorded_on
            when 'REJECTED' then invoices.rejected_on
        end as hub_state_on,

        ----------  booleans
        invoices.invoice_id is not null as is_invoice_on_hub,
        coalesce(invoices.is_quarantined, false) as is_quarantined,
        events_by_period_end.state in ('ANNOTATED', 'RECOGNISED', 'PAID', 'REJECTED')
            as is_mandatory

    from events_by_period_end
    left join invoices on invoices.invoice_id = events_by_period_end.invoice_id

),

owed as (

    select
        *,
        is_invoice_on_hub and hub_state_on is null as is_owed_to_hub,
        -- PAID and REJECTED are final on the hub: a different update can no longer be pushed.
        is_invoice_on_hub and hub_state_on is null
            and hub_status_at_end in ('PAID', 'REJECTED') as is_blocked_by_final_state,
        {{ period_end() }} - event_on as days_owed

    from compared

)

select * from owed
