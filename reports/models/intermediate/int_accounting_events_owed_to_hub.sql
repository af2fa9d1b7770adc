{#- One row per accounting event dated by the as-of day, with whether the hub is owed it now:
    the warehouse's one definition (ops.owed_updates), lifecycle-aware and with its holds, as
    the push plan and `rcflow status` read it. Reads no per-invoice dates, so it runs beside
    int_invoices_dated_as_of_period, and invoice_status (which needs only these flags) does
    not wait for the comparison with the hub's dates. -#}
with

events as (

    select * from {{ ref('stg_rcflow__accounting_events') }}

),

owed_now as (

    select * from {{ ref('stg_rcflow__owed_updates') }}

),

events_by_as_of_day as (

    select * from events
    where event_on <= {{ as_of_date() }}

),

owed as (

    select
        ----------  ids
        events_by_as_of_day.invoice_id,
        events_by_as_of_day.state,

        ----------  text
        owed_now.verdict,
        owed_now.hold_kind,

        ----------  dates
        events_by_as_of_day.event_on,

        ----------  numerics
        {{ as_of_date() }} - events_by_as_of_day.event_on as days_owed,

        ----------  booleans
        events_by_as_of_day.state in ('ANNOTATED', 'RECOGNISED', 'PAID', 'REJECTED')
            as is_mandatory,
        -- Owed at the period end: the accounting system dated it by then, and the hub is owed
        -- it now (what was pushed since, late or not, is no longer owed; a state the hub has
        -- moved past can no longer be sent, so it is not owed).
        coalesce(owed_now.is_owed, false) as is_owed_to_hub,
        -- Owed, and not held back (quarantine, refused): what the next push sends.
        coalesce(owed_now.is_due, false) as is_due_to_hub,
        coalesce(owed_now.is_owed and owed_now.hold_kind is not null, false) as is_held_back,
        -- The hub does not show it and is PAID/REJECTED (final): it can no longer be pushed.
        coalesce(owed_now.verdict = 'final_on_hub', false) as is_blocked_by_final_state

    from events_by_as_of_day
    left join owed_now
        on owed_now.invoice_id = events_by_as_of_day.invoice_id
        and owed_now.state = events_by_as_of_day.state

)

select * from owed
