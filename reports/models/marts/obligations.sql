with

dated as (

    select * from {{ ref('int_invoices_dated_as_of_period') }}

),

descriptions as (

    select * from {{ ref('int_invoices_joined_to_descriptions') }}

),

accounting as (

    select * from {{ ref('int_accounting_events_compared_to_hub') }}

),

in_scope as (

    select * from dated
    where not is_quarantined

),

owed_to_hub as (

    select
        invoice_id,
        state,
        'owed_to_hub' as obligation,
        1 as priority,
        event_on as since_on,
        event_on as accounting_event_on,
        is_blocked_by_final_state,
        'the accounting system recorded it on ' || strftime(event_on, '%Y-%m-%d')
            || '; the hub does not show it' as detail

    from accounting
    where is_due_to_hub

),

missing_in_sequence as (

    select
        invoice_id,
        'ANNOTATED' as state,
        'missing_in_sequence' as obligation,
        2 as priority,
        least(received_on, accepted_on, recognised_on, payment_on) as since_on,
        null::date as accounting_event_on,
        false as is_blocked_by_final_state,
        'later states are recorded (hub or accounting) but ANNOTATED (mandatory) is not' as detail

    from in_scope
    where annotated_on is null
        and coalesce(received_on, accepted_on, recognised_on, payment_on) is not null

    union all

    select
        invoice_id,
        'RECOGNISED',
        'missing_in_sequence',
        2,
        payment_on,
        null::date,
        false,
        'PAID is recorded (hub or accounting) but RECOGNISED (mandatory) is not'

    from in_scope
    where recognised_on is null and payment_on is not null

),

overdue as (

    select
        invoice_id,
        'ANNOTATED' as state,
        'overdue' as obligation,
        3 as priority,
        registered_on as since_on,
        null::date as accounting_event_on,
        false as is_blocked_by_final_state,
        'registered ' || (as_of_on - registered_on)
            || ' days before the as-of day; neither annotated nor rejected' as detail

    from in_scope
    where annotated_on is null
        and not is_rejected_at_end
        and payment_on is null
        and registered_on + {{ var('annotation_overdue_days') }} < as_of_on

    union all

    select
        invoice_id,
        'RECOGNISED',
        'overdue',
        3,
        annotated_on,
        null::date,
        false,
        'annotated more than 3 months before the as-of day (Ley 25/2013 art. 10)'

    from in_scope
    where annotated_on is not null
        and recognised_on is null
        and payment_on is null
        and not is_rejected_at_end
        and cast(annotated_on + interval 3 month as date) < as_of_on

    union all

    select
        invoice_id,
        'PAID',
        'overdue',
        3,
        due_on,
        null::date,
        false,
        'obligation recognised, legal payment date passed: payment (or its PAID update) overdue'

    from in_scope
    where recognised_on is not null
        and pmp_role = 'pending'
        and is_late

),

unioned as (

    select * from owed_to_hub
    union all
    select * from missing_in_sequence
    union all
    select * from overdue

),

strongest as (

    select * from unioned
    qualify row_number() over (partition by invoice_id, state order by priority) = 1

),

described as (

    select
        ----------  ids
        dated.period_label as period,
        strongest.invoice_id,
        dated.entity_nif,
        descriptions.rcf_number,
        descriptions.invoice_number,

        ----------  the obligation
        strongest.state,
        strongest.obligation,
        strongest.state in ('ANNOTATED', 'RECOGNISED', 'PAID', 'REJECTED') as is_mandatory,
        strongest.is_blocked_by_final_state,
        dated.status_at_end as hub_status_at_end,
        strongest.detail,

        ----------  numerics
        dated.amount,
        dated.as_of_on - strongest.since_on as days_outstanding,

        ----------  dates
        strongest.since_on,
        strongest.accounting_event_on

    from strongest
    inner join dated on dated.invoice_id = strongest.invoice_id
    inner join descriptions on descriptions.invoice_id = strongest.invoice_id

)

select * from described
