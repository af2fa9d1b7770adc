-- Audit query: the period's global PMP (RD 1040/2017 method) in one hand-written statement
-- over the staging views, to compare with the `pmp` mart when no invoice is quarantined,
-- rejected after payment or a credit note (the benchmark runs the same idea).
with

states as (

    select
        invoice_id,
        min(registered_on) filter (where state = 'REGISTERED') as registered_on,
        min(state_on) filter (where state = 'ACCEPTED') as accepted_on,
        min(state_on) filter (where state = 'PAID') as paid_on,
        arg_min(coalesce(payment_on, state_on), state_on)
            filter (where state = 'PAID') as payment_on,
        min(state_on) filter (where state = 'REJECTED') as rejected_on

    from {{ ref('stg_efact__invoice_states') }}
    where state_on <= {{ period_end() }}
    group by invoice_id

)

select
    sum(amount * (
        case when payment_on <= {{ period_end() }} then payment_on else {{ period_end() }} end
        - case when accepted_on >= registered_on then accepted_on else registered_on end
    )) / sum(amount) as pmp_global

from states
inner join {{ ref('stg_efact__invoices') }} using (invoice_id)
where rejected_on is null
    and (payment_on is null or payment_on >= {{ period_start() }})
