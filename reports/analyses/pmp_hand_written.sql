-- Audit query: the period's global PMP (RD 1040/2017 method) in one hand-written statement
-- over the staging models, with the same effective dates as the models (payment date, the
-- accounting system's dates, the registry entry), to compare with the `pmp` mart when no
-- invoice is quarantined, a credit note or issued before 2014 (the benchmark runs the same
-- idea on the raw tables, with those exclusions too).
with

hub as (

    select
        invoice_id,
        min(coalesce(registered_on, state_on)) filter (where state = 'REGISTERED')
            as registered_on,
        min(state_on) filter (where state = 'ACCEPTED') as accepted_on,
        min(payment_on) filter (where state = 'PAID') as payment_on,
        min(state_on) filter (where state = 'PAID') as paid_on,
        min(state_on) filter (where state = 'REJECTED') as rejected_on

    from {{ ref('stg_efact__invoice_states') }}
    group by invoice_id

),

accounting as (

    select
        invoice_id,
        min(event_on) filter (where state = 'ACCEPTED') as accepted_on,
        min(event_on) filter (where state = 'PAID') as paid_on,
        min(event_on) filter (where state = 'REJECTED') as rejected_on

    from {{ ref('stg_rcflow__accounting_events') }}
    group by invoice_id

),

effective as (

    select
        invoices.amount,
        coalesce(hub.registered_on, invoices.registered_on) as registered_on,
        coalesce(accounting.accepted_on, hub.accepted_on) as accepted_on,
        coalesce(hub.payment_on, accounting.paid_on, hub.paid_on) as payment_on,
        coalesce(accounting.rejected_on, hub.rejected_on) as rejected_on

    from {{ ref('stg_efact__invoices') }} as invoices
    left join hub using (invoice_id)
    left join accounting using (invoice_id)

),

as_of as (

    select
        amount,
        registered_on,
        case when accepted_on <= {{ period_end() }} then accepted_on end as accepted_on,
        case when payment_on <= {{ period_end() }} then payment_on end as payment_on,
        case when rejected_on <= {{ period_end() }} then rejected_on end as rejected_on

    from effective
    where registered_on <= {{ period_end() }}

)

select
    sum(amount * (
        coalesce(payment_on, {{ period_end() }})
        - case when accepted_on >= registered_on then accepted_on else registered_on end
    )) / sum(amount) as pmp_global

from as_of
where (rejected_on is null or rejected_on >= payment_on)
    and (payment_on is null or payment_on >= {{ period_start() }})
