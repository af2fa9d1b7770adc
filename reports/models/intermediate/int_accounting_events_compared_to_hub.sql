with

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

invoices as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

-- What the hub is owed now: the warehouse's one definition (ops.owed_updates), lifecycle-aware
-- and with its holds, as the push plan and `rcflow status` read it.
owed_now as (

    select * from {{ ref('stg_rcflow__owed_updates') }}

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
        owed_now.verdict,
        owed_now.hold_kind,

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
        coalesce(
            invoices.hub_paid_on is not null or invoices.hub_rejected_on is not null
            or invoices.hub_cancelled_on is not null,
            false
        ) as is_final_on_hub,
        events_by_period_end.state in ('ANNOTATED', 'RECOGNISED', 'PAID', 'REJECTED')
            as is_mandatory,
        coalesce(owed_now.is_owed, false) as is_owed_now,
        coalesce(owed_now.is_due, false) as is_due_now

    from events_by_period_end
    left join invoices on invoices.invoice_id = events_by_period_end.invoice_id
    left join owed_now
        on owed_now.invoice_id = events_by_period_end.invoice_id
        and owed_now.state = events_by_period_end.state

),

owed as (

    select
        *,
        -- Owed at the period end: the accounting system dated it by then, and the hub is owed
        -- it now (what was pushed since, late or not, is no longer owed; a state the hub has
        -- moved past can no longer be sent, so it is not owed).
        is_owed_now as is_owed_to_hub,
        -- Owed, and not held back (quarantine, refused): what the next push sends.
        is_due_now as is_due_to_hub,
        is_owed_now and hold_kind is not null as is_held_back,
        -- The hub does not show it and is PAID/REJECTED (final): it can no longer be pushed.
        coalesce(verdict = 'final_on_hub', false) as is_blocked_by_final_state,
        {{ as_of_date() }} - event_on as days_owed

    from compared

)

select * from owed
